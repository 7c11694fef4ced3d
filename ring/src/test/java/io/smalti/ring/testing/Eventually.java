package io.smalti.ring.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition that other threads make true. */
public final class Eventually {
    private Eventually() {}

    /** Waits until {@code condition} holds, running {@code meanwhile} (e.g. a connection's tasks) between polls. */
    public static void await(String what, Duration timeout, Runnable meanwhile, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            meanwhile.run();
            if (condition.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    public static void await(String what, BooleanSupplier condition) {
        await(what, Duration.ofSeconds(10), () -> {}, condition);
    }
}
