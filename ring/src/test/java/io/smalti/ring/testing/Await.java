package io.smalti.ring.testing;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls a condition in tests of several actor systems, which converge asynchronously. */
public final class Await {
    private Await() {}

    /** The first non-null value of {@code probe}, polled every 100 ms; fails naming {@code what} after {@code timeout}. */
    public static <T> T await(Duration timeout, Supplier<T> probe, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
    }
}
