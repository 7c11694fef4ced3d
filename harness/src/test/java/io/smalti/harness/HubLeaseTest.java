package io.smalti.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** When a harness without its hub must fence its instance, on a clock the test moves. */
class HubLeaseTest {
    private long now = 1_000_000;
    private final HubLease lease = new HubLease(30_000, () -> now);

    private void advanceMillis(long millis) {
        now += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void theLeaseRunsOutWhenTheHubStaysAwayForLongerThanIt() {
        lease.sessionStarted();
        advanceMillis(600_000);
        assertFalse(lease.expired(), "a session holds the lease for as long as it lasts");
        lease.sessionEnded();
        advanceMillis(29_999);
        assertFalse(lease.expired());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(1), lease.remainingNanos(), "when to look again");
        advanceMillis(1);
        assertTrue(lease.expired(), "no hub session for the whole lease: fence");
    }

    @Test
    void aReconnectWithinTheLeaseRenewsIt() {
        lease.sessionStarted();
        lease.sessionEnded();
        advanceMillis(20_000);
        lease.sessionStarted();
        advanceMillis(20_000);
        assertFalse(lease.expired(), "in a session again");
        lease.sessionEnded();
        advanceMillis(29_000);
        assertFalse(lease.expired(), "the lease runs from the last session's end, not the first one's");
        advanceMillis(1_000);
        assertTrue(lease.expired());
    }

    @Test
    void beforeTheFirstSessionTheLeaseNeverRunsOut() {
        advanceMillis(3_600_000);
        lease.sessionEnded(); // a connection that failed before its Welcome
        assertFalse(lease.expired(), "the first-connect deadline applies instead");
        assertEquals(Long.MAX_VALUE, lease.remainingNanos());
    }
}
