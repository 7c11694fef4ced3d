package io.smalti.node.controller;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The other nodes' life-cycles as this node sees them (thesis §4.5.2, "offline as seen by peers"): a member
 * this node cannot reach, or that left the membership, is OFFLINE, and FAILED once that has lasted the
 * offline timeout; seen again it comes back (a FAILED one through INITIALIZING, as a new node). FAILED
 * peers are forgotten after a while. Fed by {@link #observe}; thread-safe.
 */
public final class PeerView {
    private final Duration offlineTimeout;
    private final Duration forgetAfter;
    private final Clock clock;
    private final Map<String, NodeLifecycle> peers = new ConcurrentHashMap<>();

    public PeerView(Duration offlineTimeout, Duration forgetAfter, Clock clock) {
        this.offlineTimeout = offlineTimeout;
        this.forgetAfter = forgetAfter;
        this.clock = clock;
    }

    /**
     * Takes the current membership: member name to whether it is reachable. Names seen before and absent now
     * have left the membership.
     */
    public synchronized void observe(Map<String, Boolean> members) {
        Instant now = clock.instant();
        members.forEach((name, reachable) -> {
            NodeLifecycle l = peers.computeIfAbsent(name, n -> {
                NodeLifecycle fresh = new NodeLifecycle(offlineTimeout, clock);
                fresh.started();
                return fresh;
            });
            if (reachable) {
                l.seenOnline();
                if (l.state() == NodeState.INITIALIZING) {
                    l.started();
                }
            } else {
                l.seenOffline(now);
            }
        });
        peers.forEach((name, l) -> {
            if (!members.containsKey(name)) {
                l.seenOffline(now);
            }
            l.tick(now);
        });
        peers.entrySet().removeIf(e -> e.getValue().state() == NodeState.FAILED
                && !members.containsKey(e.getKey()) && e.getValue().since().plus(forgetAfter).isBefore(now));
    }

    /** A peer's state and the reason of its last change, if this node has seen it. */
    public Optional<Seen> peer(String name) {
        NodeLifecycle l = peers.get(name);
        if (l == null) {
            return Optional.empty();
        }
        List<NodeLifecycle.Transition> history = l.history();
        return Optional.of(new Seen(l.state(), l.since(), history.isEmpty() ? "" : history.get(history.size() - 1).reason()));
    }

    /** Every peer this node remembers, by name. */
    public Map<String, Seen> peers() {
        Map<String, Seen> out = new TreeMap<>();
        peers.keySet().forEach(n -> peer(n).ifPresent(s -> out.put(n, s)));
        return out;
    }

    /** A peer's state as seen from here. */
    public record Seen(NodeState state, Instant since, String reason) {}
}
