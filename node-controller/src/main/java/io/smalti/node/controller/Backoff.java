package io.smalti.node.controller;

import java.time.Duration;
import java.util.Objects;

/**
 * Immutable restart back-off policy of a {@link ProcessSupervisor}: wait {@code initial} before the first
 * restart, {@code multiplier} times longer after each further quick exit, never longer than {@code max}; a run
 * that lasted at least {@code resetAfter} starts the sequence over.
 *
 * @param initial    delay before the first restart (zero allowed)
 * @param max        upper bound of the delay
 * @param multiplier growth factor per consecutive failure, at least 1
 * @param resetAfter how long a process must have run for its exit not to count as a consecutive failure
 */
public record Backoff(Duration initial, Duration max, double multiplier, Duration resetAfter) {

    public Backoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        Objects.requireNonNull(resetAfter, "resetAfter");
        if (initial.isNegative()) {
            throw new IllegalArgumentException("back-off initial delay must not be negative, was " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("back-off max " + max + " is shorter than initial " + initial);
        }
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("back-off multiplier must be finite and >= 1, was " + multiplier);
        }
        if (resetAfter.isNegative() || resetAfter.isZero()) {
            throw new IllegalArgumentException("back-off resetAfter must be positive, was " + resetAfter);
        }
    }

    /** 1 s, doubling up to 1 min; reset after a run of 1 min. */
    public static Backoff defaults() {
        return new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(1), 2.0, Duration.ofMinutes(1));
    }

    /**
     * The delay before the next restart.
     *
     * @param consecutiveFailures quick exits before this one in the current sequence (0 for the first)
     */
    public Duration delay(int consecutiveFailures) {
        if (consecutiveFailures < 0) {
            throw new IllegalArgumentException("consecutiveFailures must not be negative, was " + consecutiveFailures);
        }
        // In double, so large counts saturate at infinity (then max) instead of overflowing a long.
        double nanos = initial.toNanos() * Math.pow(multiplier, consecutiveFailures);
        return nanos >= max.toNanos() ? max : Duration.ofNanos((long) nanos);
    }
}
