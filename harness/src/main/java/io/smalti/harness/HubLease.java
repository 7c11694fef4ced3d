package io.smalti.harness;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The harness's lease on its hub: once it has had a hub session, it may be without one for at most the lease.
 * A node that stays away longer has been lost, and the cluster starts its instances again elsewhere (after
 * {@code smalti.components.lost-after}, 2 s by default); past the lease this instance must stop, so that it
 * does not run on beside its replacement should its node never come back. Before the first session the
 * harness's first-connect deadline applies instead, so the lease never runs out then.
 *
 * <p>A decision only: {@link HubConnector} reports sessions and asks when the lease runs out. Confined to the
 * harness's event loop; time comes from the injected clock.
 */
final class HubLease {
    private final long leaseNanos;
    private final LongSupplier nanoTime;
    private boolean inSession;
    private boolean hadSession;
    private long lostAtNanos;

    /** @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime}) */
    HubLease(long leaseMillis, LongSupplier nanoTime) {
        this.leaseNanos = TimeUnit.MILLISECONDS.toNanos(leaseMillis);
        this.nanoTime = nanoTime;
    }

    /** A hub session started (its Welcome arrived): the lease holds for as long as it lasts. */
    void sessionStarted() {
        inSession = true;
        hadSession = true;
    }

    /** The hub session ended: the lease runs from now. */
    void sessionEnded() {
        if (inSession) {
            inSession = false;
            lostAtNanos = nanoTime.getAsLong();
        }
    }

    /**
     * Nanoseconds until the lease runs out: {@link Long#MAX_VALUE} while a session lasts or before the first
     * one, zero or less once it has run out.
     */
    long remainingNanos() {
        if (inSession || !hadSession) {
            return Long.MAX_VALUE;
        }
        return leaseNanos - (nanoTime.getAsLong() - lostAtNanos);
    }

    /** True once the harness has been without a hub session for longer than the lease. */
    boolean expired() {
        return remainingNanos() <= 0;
    }
}
