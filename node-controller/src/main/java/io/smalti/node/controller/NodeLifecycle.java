package io.smalti.node.controller;

import static io.smalti.node.controller.NodeState.AVAILABLE;
import static io.smalti.node.controller.NodeState.DESTROYED;
import static io.smalti.node.controller.NodeState.DESTROYING;
import static io.smalti.node.controller.NodeState.FAILED;
import static io.smalti.node.controller.NodeState.INITIALIZING;
import static io.smalti.node.controller.NodeState.OFFLINE;
import static io.smalti.node.controller.NodeState.UNAVAILABLE;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life-cycle of one node as a state machine; thread-safe (state changes are synchronized, listeners are
 * told after the change, outside the lock, in transition order).
 *
 * <p>Transitions, by event:
 * <pre>
 * started()              INITIALIZING → AVAILABLE
 * markUnavailable(why)   AVAILABLE → UNAVAILABLE            (no-op in UNAVAILABLE)
 * markAvailable()        UNAVAILABLE → AVAILABLE            (no-op in AVAILABLE)
 * seenOffline(at)        INITIALIZING|AVAILABLE|UNAVAILABLE → OFFLINE
 *                                                            (no-op in OFFLINE, FAILED, DESTROYING, DESTROYED)
 * seenOnline()           OFFLINE → the state before it; FAILED → INITIALIZING (its instances are gone: rejoin)
 *                                                            (no-op elsewhere)
 * tick(now)              OFFLINE → FAILED once offline for the timeout (no-op otherwise)
 * destroy()              any but DESTROYING|DESTROYED → DESTROYING (no-op in DESTROYING)
 * destroyed()            DESTROYING → DESTROYED             (no-op in DESTROYED)
 * </pre>
 * Repeating an event that already holds is a no-op (returns {@code false}), because operators retry and peers
 * report the same view many times; any other event not listed throws {@link IllegalStateException}.
 * The peers' view never throws: a stale report about a node that is going away is ignored.
 */
public final class NodeLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(NodeLifecycle.class);

    /** How many transitions {@link #history()} keeps. */
    public static final int HISTORY_LIMIT = 50;

    /**
     * One change of state.
     *
     * @param from   the state left
     * @param to     the state entered
     * @param at     when
     * @param reason why, for operators
     */
    public record Transition(NodeState from, NodeState to, Instant at, String reason) {
        public Transition {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(reason, "reason");
        }
    }

    private final Duration offlineTimeout;
    private final Clock clock;
    private final List<Consumer<Transition>> listeners = new CopyOnWriteArrayList<>();

    // All guarded by this.
    private NodeState state = INITIALIZING;
    private Instant since;
    private NodeState beforeOffline; // where seenOnline() returns to
    private final ArrayDeque<Transition> history = new ArrayDeque<>();
    private final ArrayDeque<Transition> undelivered = new ArrayDeque<>();
    private boolean delivering;

    /** A node in INITIALIZING that turns FAILED after {@code offlineTimeout} in OFFLINE. */
    public NodeLifecycle(Duration offlineTimeout) {
        this(offlineTimeout, Clock.systemUTC());
    }

    /** As {@link #NodeLifecycle(Duration)}, stamping operator and local events with {@code clock}. */
    public NodeLifecycle(Duration offlineTimeout, Clock clock) {
        Objects.requireNonNull(offlineTimeout, "offlineTimeout");
        if (offlineTimeout.isNegative()) {
            throw new IllegalArgumentException("offline timeout must not be negative, was " + offlineTimeout);
        }
        this.offlineTimeout = offlineTimeout;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.since = clock.instant();
    }

    /** The current state. */
    public synchronized NodeState state() {
        return state;
    }

    /** When the current state was entered. */
    public synchronized Instant since() {
        return since;
    }

    /** True only in {@link NodeState#AVAILABLE}: the scheduler may place new instances here. */
    public synchronized boolean acceptsInstances() {
        return state == AVAILABLE;
    }

    /** The last {@link #HISTORY_LIMIT} transitions, oldest first. */
    public synchronized List<Transition> history() {
        return List.copyOf(history);
    }

    /** Registers a listener told of each transition after it happened; a throwing listener is logged. */
    public void addListener(Consumer<Transition> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Unregisters a listener; returns whether it was registered. */
    public boolean removeListener(Consumer<Transition> listener) {
        return listeners.remove(listener);
    }

    /** The node finished initializing: INITIALIZING → AVAILABLE. */
    public boolean started() {
        return change("started()", EnumSet.of(INITIALIZING), Set.of(), AVAILABLE, clock.instant(), "started");
    }

    /**
     * Operator: the node takes no new instances and its instances are to be moved away; AVAILABLE → UNAVAILABLE.
     *
     * @param reason why, shown to operators; must not be blank
     */
    public boolean markUnavailable(String reason) {
        Objects.requireNonNull(reason, "reason");
        if (reason.isBlank()) {
            throw new IllegalArgumentException("a reason is needed to mark a node unavailable");
        }
        return change("markUnavailable()", EnumSet.of(AVAILABLE), EnumSet.of(UNAVAILABLE), UNAVAILABLE,
                clock.instant(), reason);
    }

    /** Operator: the node takes instances again; UNAVAILABLE → AVAILABLE. */
    public boolean markAvailable() {
        return change("markAvailable()", EnumSet.of(UNAVAILABLE), EnumSet.of(AVAILABLE), AVAILABLE,
                clock.instant(), "marked available by operator");
    }

    /**
     * Peers no longer see the node, since {@code at}; the offline timeout runs from {@code at}. A repeated
     * report keeps the first time, so gossip cannot keep postponing the failure.
     */
    public boolean seenOffline(Instant at) {
        Objects.requireNonNull(at, "at");
        synchronized (this) {
            if (!EnumSet.of(INITIALIZING, AVAILABLE, UNAVAILABLE).contains(state)) {
                return false;
            }
            beforeOffline = state;
            record(OFFLINE, at, "not seen by peers since " + at);
        }
        deliver();
        return true;
    }

    /**
     * Peers see the node again: OFFLINE → the state it had before (an operator's UNAVAILABLE survives the
     * outage); FAILED → INITIALIZING, since its instances were given up and it has to rejoin as new.
     */
    public boolean seenOnline() {
        synchronized (this) {
            if (state == OFFLINE) {
                record(beforeOffline, clock.instant(), "seen by peers again");
            } else if (state == FAILED) {
                record(INITIALIZING, clock.instant(), "seen by peers again after failing; rejoining");
            } else {
                return false;
            }
            beforeOffline = null;
        }
        deliver();
        return true;
    }

    /** Turns OFFLINE into FAILED once the node has been offline for the timeout; call it periodically. */
    public boolean tick(Instant now) {
        Objects.requireNonNull(now, "now");
        synchronized (this) {
            if (state != OFFLINE || now.isBefore(since.plus(offlineTimeout))) {
                return false;
            }
            beforeOffline = null;
            record(FAILED, now, "offline since " + since + ", longer than the timeout of " + offlineTimeout);
        }
        deliver();
        return true;
    }

    /** Starts taking the node out of the cluster for good: any state but DESTROYING/DESTROYED → DESTROYING. */
    public boolean destroy() {
        return change("destroy()", EnumSet.of(INITIALIZING, AVAILABLE, UNAVAILABLE, OFFLINE, FAILED),
                EnumSet.of(DESTROYING), DESTROYING, clock.instant(), "destroy requested");
    }

    /** The node is gone: DESTROYING → DESTROYED. */
    public boolean destroyed() {
        return change("destroyed()", EnumSet.of(DESTROYING), EnumSet.of(DESTROYED), DESTROYED, clock.instant(),
                "destroyed");
    }

    @Override
    public synchronized String toString() {
        return "NodeLifecycle[" + state + " since " + since + "]";
    }

    private boolean change(String event, Set<NodeState> from, Set<NodeState> noOpIn, NodeState to, Instant at,
                           String reason) {
        synchronized (this) {
            if (noOpIn.contains(state)) {
                return false;
            }
            if (!from.contains(state)) {
                throw new IllegalStateException("illegal node transition " + state + " -> " + to + " by " + event
                        + ": allowed only from " + from);
            }
            if (to != OFFLINE) {
                beforeOffline = null;
            }
            record(to, at, reason);
        }
        deliver();
        return true;
    }

    // Holds the lock.
    private Transition record(NodeState to, Instant at, String reason) {
        Transition t = new Transition(state, to, at, reason);
        state = to;
        since = at;
        if (history.size() == HISTORY_LIMIT) {
            history.removeFirst();
        }
        history.addLast(t);
        undelivered.addLast(t);
        LOG.info("node {} -> {}: {}", t.from(), t.to(), reason);
        return t;
    }

    /**
     * Tells the listeners of undelivered transitions, outside the lock so a listener may call back in. Only
     * one thread delivers at a time (a nested or concurrent caller leaves its transition to it), which keeps
     * every listener seeing the transitions in the order they happened.
     */
    private void deliver() {
        synchronized (this) {
            if (delivering) {
                return;
            }
            delivering = true;
        }
        boolean done = false;
        try {
            while (true) {
                Transition t;
                synchronized (this) {
                    t = undelivered.pollFirst();
                    if (t == null) {
                        delivering = false;
                        done = true;
                        return;
                    }
                }
                for (Consumer<Transition> listener : listeners) {
                    try {
                        listener.accept(t);
                    } catch (RuntimeException e) {
                        LOG.warn("node life-cycle listener {} failed on {}", listener, t, e);
                    }
                }
            }
        } finally {
            if (!done) { // an Error escaped a listener: let the next caller deliver the rest
                synchronized (this) {
                    delivering = false;
                }
            }
        }
    }
}
