package io.smalti.ring.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition that other threads (actor systems converging, pending tasks) make true. */
public final class Await {
    private Await() {}

    /** The first non-null value of {@code probe}, polled every 100 ms; fails naming {@code what} after {@code timeout}. */
    public static <T> T await(Duration timeout, Supplier<T> probe, String what) {
        return poll(timeout, 100, () -> {}, probe, what);
    }

    /**
     * Waits until {@code condition} holds, polled every 5 ms, running {@code meanwhile} (e.g. a channel's pending
     * tasks) before each poll.
     */
    public static void until(String what, Duration timeout, Runnable meanwhile, BooleanSupplier condition) {
        poll(timeout, 5, meanwhile, () -> condition.getAsBoolean() ? Boolean.TRUE : null, what);
    }

    /** {@link #until(String, Duration, Runnable, BooleanSupplier)} within 10 s, with nothing to run meanwhile. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, Duration.ofSeconds(10), () -> {}, condition);
    }

    private static <T> T poll(Duration timeout, long everyMillis, Runnable meanwhile, Supplier<T> probe, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            meanwhile.run();
            T v = probe.get();
            if (v != null) {
                return v;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(everyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }
}
