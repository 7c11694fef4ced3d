package io.smalti.node.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeerViewTest {
    private Instant now = Instant.parse("2026-12-01T00:00:00Z");
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };
    private final PeerView view = new PeerView(Duration.ofSeconds(30), Duration.ofMinutes(10), clock);

    private NodeState state(String name) {
        return view.peer(name).orElseThrow().state();
    }

    @Test
    void anUnreachablePeerIsOfflineThenFailedAfterTheTimeout() {
        view.observe(Map.of("n1", true, "n2", true));
        assertEquals(NodeState.AVAILABLE, state("n2"));
        now = now.plusSeconds(1);
        view.observe(Map.of("n1", true, "n2", false));
        assertEquals(NodeState.OFFLINE, state("n2"));
        now = now.plusSeconds(29);
        view.observe(Map.of("n1", true, "n2", false));
        assertEquals(NodeState.OFFLINE, state("n2"), "not before the timeout");
        now = now.plusSeconds(1);
        view.observe(Map.of("n1", true));
        assertEquals(NodeState.FAILED, state("n2"));
        assertTrue(view.peer("n2").orElseThrow().reason().contains("offline since"));
    }

    @Test
    void aPeerSeenAgainComesBack() {
        view.observe(Map.of("n2", true));
        view.observe(Map.of("n2", false));
        view.observe(Map.of("n2", true));
        assertEquals(NodeState.AVAILABLE, state("n2"));
        view.observe(Map.of());
        now = now.plusSeconds(31);
        view.observe(Map.of());
        assertEquals(NodeState.FAILED, state("n2"));
        view.observe(Map.of("n2", true));
        assertEquals(NodeState.AVAILABLE, state("n2"), "a failed node rejoins as new");
    }

    @Test
    void failedPeersThatLeftAreForgotten() {
        view.observe(Map.of("n2", true));
        view.observe(Map.of());
        now = now.plusSeconds(31);
        view.observe(Map.of());
        now = now.plusSeconds(601);
        view.observe(Map.of());
        assertTrue(view.peer("n2").isEmpty());
        assertTrue(view.peers().isEmpty());
    }
}
