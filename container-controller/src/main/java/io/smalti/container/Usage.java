package io.smalti.container;

/** Resource use of one instance: resident memory in bytes, CPU time in nanoseconds, number of processes. Immutable. */
public record Usage(long memoryBytes, long cpuNanos, int pids) {
}
