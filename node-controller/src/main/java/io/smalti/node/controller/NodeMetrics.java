package io.smalti.node.controller;

import java.time.Instant;
import java.util.Objects;

/**
 * One immutable sample of a node's resources, as taken by {@link ProcMetrics#sample()}; plain values so it
 * serialises to JSON as is.
 *
 * @param at                when the sample was taken
 * @param cpus              number of CPUs the kernel reports
 * @param cpuBusy           fraction of CPU time, over all cores, not idle since the previous sample (0..1; 0 for
 *                          the first sample)
 * @param memTotalBytes     total usable RAM ({@code MemTotal})
 * @param memAvailableBytes RAM available for new work without swapping ({@code MemAvailable})
 * @param load1             load average over 1 minute
 * @param load5             load average over 5 minutes
 * @param load15            load average over 15 minutes
 * @param diskTotalBytes    size of the file store holding the data directory
 * @param diskFreeBytes     bytes of that file store usable by this process (excludes root-reserved blocks)
 * @param netRxBytesPerSec  bytes received per second since the previous sample, all interfaces but {@code lo}
 *                          (0 for the first sample)
 * @param netTxBytesPerSec  bytes sent per second since the previous sample, all interfaces but {@code lo}
 *                          (0 for the first sample)
 */
public record NodeMetrics(
        Instant at,
        int cpus,
        double cpuBusy,
        long memTotalBytes,
        long memAvailableBytes,
        double load1,
        double load5,
        double load15,
        long diskTotalBytes,
        long diskFreeBytes,
        long netRxBytesPerSec,
        long netTxBytesPerSec) {

    public NodeMetrics {
        Objects.requireNonNull(at, "at");
    }
}
