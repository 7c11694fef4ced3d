package io.smalti.hub.router;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timer;
import io.smalti.hub.records.HubKeys;
import io.smalti.hub.records.HubRecords;
import io.smalti.protocol.hub.Answer;
import io.smalti.protocol.hub.CastRefused;
import io.smalti.protocol.hub.ComponentDown;
import io.smalti.protocol.hub.Deliver;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Event;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.GroupChanged;
import io.smalti.protocol.hub.HubRelay;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.Notify;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Returned;
import io.smalti.protocol.hub.Selector;
import io.smalti.protocol.hub.Target;
import io.smalti.protocol.hub.Terminate;
import io.smalti.protocol.hub.TerminateComponent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub router of one node: knows the components connected here ({@link Session}s), caches where other
 * components are connected (asking the component's vnode only on a miss or a stale entry), sends calls and
 * casts there, gathers answers and expires what runs out of time. Every method is thread-safe and
 * non-blocking; ring reads and writes complete on the actor system's threads, node relays arrive on an
 * actor's thread, frames on Netty's event loops.
 */
public final class Router implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    private final String self;
    private final long incarnation;
    private final LongSupplier wallClockMillis;
    /** The last session number given out (see {@link #nextSession}). */
    private final AtomicLong lastSession = new AtomicLong();
    private final HubRecords records;
    private final HubSettings settings;
    private volatile NodeLink nodes = (node, message) -> false;
    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    /** component -> node where it was last seen connected. */
    private final ConcurrentHashMap<String, String> locations = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CachedMembers> groups = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, PendingCall> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong(ThreadLocalRandom.current().nextLong(1, 1L << 40));
    // The wheel's thread wakes every tick whether or not a call is pending: at 5 ms it cost an idle node 0.7 %
    // of a core (200 wake-ups a second), 0.27 % at 20 ms; at 50 ms a call expires at most 50 ms late.
    private final Timer timer = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "smalti-hub-timer");
        t.setDaemon(true);
        return t;
    }, 50, TimeUnit.MILLISECONDS);
    final Stats stats = new Stats();

    private final List<Consumer<String>> openedListeners = new CopyOnWriteArrayList<>();

    private record CachedMembers(Set<String> members, long until) {}

    /** Counters since start, for operators and tests. */
    public static final class Stats {
        public final LongAdder routed = new LongAdder();
        public final LongAdder expired = new LongAdder();
        public final LongAdder lateAnswers = new LongAdder();
        public final LongAdder overloaded = new LongAdder();
        public final LongAdder returned = new LongAdder();
        public final LongAdder locationLookups = new LongAdder();
    }

    /**
     * @param self this node's name
     * @param incarnation this node's incarnation: its cluster member's unique id (a node started again under
     *     the same name has another), which the clean-up after a lost node goes by ({@link #nodeLost})
     */
    public Router(String self, long incarnation, HubRecords records, HubSettings settings) {
        this(self, incarnation, records, settings, System::currentTimeMillis);
    }

    /** @param wallClockMillis the wall clock sessions are numbered from */
    Router(String self, long incarnation, HubRecords records, HubSettings settings, LongSupplier wallClockMillis) {
        this.self = self;
        this.incarnation = incarnation;
        this.wallClockMillis = wallClockMillis;
        this.records = records;
        this.settings = settings;
        timer.newTimeout(t -> sweep(), 1, TimeUnit.SECONDS);
    }

    /** Set once the node relay exists (it needs the router first). */
    public void useNodes(NodeLink link) {
        this.nodes = link;
    }

    public String self() {
        return self;
    }

    public HubSettings settings() {
        return settings;
    }

    HubRecords records() {
        return records;
    }

    public Stats stats() {
        return stats;
    }

    /**
     * Calls {@code listener} with the component id each time a session opens on this hub (once it is recorded,
     * before the harness is welcomed). Listeners run on the thread that recorded it and must not block.
     */
    public void onOpened(Consumer<String> listener) {
        openedListeners.add(listener);
    }

    /** True while {@code component} has a session on this node's hub. */
    public boolean isConnected(String component) {
        return sessions.containsKey(component);
    }

    /** How many components are connected to this node's hub. */
    public int connected() {
        return sessions.size();
    }

    /**
     * Opens a session for a component that said hello: records where it is connected (on its vnodes),
     * then completes with the session. A session already open for the same component is closed first
     * (its harness reconnected).
     */
    public CompletionStage<Session> open(String component, HarnessLink link) {
        Location location = Location.newBuilder().setNode(self).setSession(nextSession()).setIncarnation(incarnation).build();
        Session session = new Session(this, component, link, location, false);
        Session old = sessions.put(component, session);
        if (old != null) {
            LOG.info("Component {} connected again from {}; closing its previous connection", component, link.describe());
            old.link().close();
        }
        locations.put(component, self);
        CompletableFuture<Void> recorded = CompletableFuture.allOf(records.setLocation(component, location).toCompletableFuture(),
                records.addConnected(component, location).toCompletableFuture());
        return recorded.whenComplete((x, err) -> {
            if (err != null && sessions.remove(component, session)) {
                locations.remove(component, self); // never welcomed: nobody heard of it, nothing to tell
            } else if (err == null) {
                for (Consumer<String> l : openedListeners) {
                    try {
                        l.accept(component);
                    } catch (RuntimeException e) {
                        LOG.warn("A session listener failed for {}: {}", component, e.toString());
                    }
                }
            }
        }).thenApply(x -> session);
    }

    /**
     * A new session's number: the wall clock in microseconds, or one more than the last when that is larger.
     * Numbers grow across restarts too, so a group join supersedes those of the component's earlier sessions,
     * whichever incarnation of this node held them (unless the clock went back by more than a restart takes).
     */
    private long nextSession() {
        long now = wallClockMillis.getAsLong() * 1000;
        return lastSession.accumulateAndGet(now, (last, clock) -> Math.max(last + 1, clock));
    }

    /** A session for a tool on this node (the REST API): it can call, cast and read, and nobody calls it. */
    public Session tool(HarnessLink link) {
        return new Session(this, "tool:" + self, link, Location.getDefaultInstance(), true);
    }

    /** Called by a session whose connection closed: it goes away for everyone else. */
    void closed(Session session) {
        if (!sessions.remove(session.component(), session)) {
            return; // replaced by a newer connection: that one speaks for the component now
        }
        locations.remove(session.component(), self);
        String reason = session.endedBecause;
        session.goneAway(reason != null ? reason : "disconnected");
    }

    /**
     * Ends a component's session because its node ended the component (its container was destroyed): the
     * connection to a vanished container may not report itself closed for minutes, and until then calls
     * would still be routed to it. Monitors and links hear {@code reason}. No-op without a session. Any thread.
     */
    public void disconnect(String component, String reason) {
        Session session = sessions.get(component);
        if (session != null) {
            session.endedBecause = reason;
            session.link().abort(); // closed(session) follows on the connection's thread
        }
    }

    // ---- sending calls and casts -------------------------------------------------------------------

    int timeoutMillis(Frame frame) {
        return frame.getTimeoutMs() > 0 ? frame.getTimeoutMs() : (int) settings.defaultTimeout().toMillis();
    }

    /**
     * Routes a Call or Cast frame from {@code caller}; the answer (Reply or Error, with the frame's
     * correlation) goes to {@code origin}. Casts get an answer only when they cannot be sent and their
     * correlation is not 0.
     */
    void route(String caller, Frame frame, Consumer<Frame> origin) {
        stats.routed.increment();
        boolean isCall = frame.hasCall();
        Target target = isCall ? frame.getCall().getTarget() : frame.getCast().getTarget();
        int timeout = timeoutMillis(frame);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
        Frame stamped = isCall
                ? frame.toBuilder().setCall(frame.getCall().toBuilder().setCaller(caller)).build()
                : frame.toBuilder().setCast(frame.getCast().toBuilder().setCaller(caller)).build();
        try {
            switch (target.getKindCase()) {
                case COMPONENT -> {
                    String id = HubKeys.checkComponent(target.getComponent());
                    PendingCall p = isCall ? track(origin, stamped, deadline, timeout, null, id, 1) : null;
                    deliverTo(id, stamped, p, deadline, castErrors(frame, origin), false);
                }
                case GROUP -> {
                    String group = HubKeys.checkGroup(target.getGroup());
                    members(group, false).whenComplete((members, err) -> {
                        if (err != null) {
                            answerError(frame, origin, Error.Code.UNAVAILABLE, "cannot read group " + group + ": " + rootMessage(err));
                        } else if (members.isEmpty()) {
                            answerError(frame, origin, Error.Code.NO_MEMBERS, "group " + group + " has no members");
                        } else if (target.getSelector() == Selector.ALL) {
                            PendingCall p = isCall ? track(origin, stamped, deadline, timeout, null,
                                    "group " + group, members.size()) : null;
                            for (String m : members) {
                                deliverTo(m, stamped, p, deadline, castErrors(frame, origin), false);
                            }
                        } else {
                            String m = pick(members, Set.of());
                            PendingCall p = isCall ? track(origin, stamped, deadline, timeout, group,
                                    "group " + group, 1) : null;
                            if (p != null) {
                                p.tried(m);
                            }
                            deliverTo(m, stamped, p, deadline, castErrors(frame, origin), false);
                        }
                    });
                }
                default -> answerError(frame, origin, Error.Code.BAD_REQUEST,
                        (isCall ? "call" : "cast") + " has no target (component or group)");
            }
        } catch (IllegalArgumentException e) {
            answerError(frame, origin, Error.Code.BAD_REQUEST, e.getMessage());
        }
    }

    /** Where a cast's delivery errors go: to its sender if it asked (non-zero correlation), else nowhere. */
    private Consumer<Error> castErrors(Frame frame, Consumer<Frame> origin) {
        if (frame.hasCall() || frame.getCorrelation() == 0) {
            return e -> {};
        }
        return e -> origin.accept(Frame.newBuilder().setCorrelation(frame.getCorrelation()).setError(e).build());
    }

    private void answerError(Frame frame, Consumer<Frame> origin, Error.Code code, String message) {
        if (frame.getCorrelation() != 0) {
            origin.accept(Frame.newBuilder().setCorrelation(frame.getCorrelation())
                    .setError(Error.newBuilder().setCode(code).setMessage(message)).build());
        }
    }

    private PendingCall track(Consumer<Frame> origin, Frame frame, long deadline, int timeoutMillis, String anyGroup,
                              String target, int asked) {
        PendingCall p = new PendingCall(ids.incrementAndGet(), origin, frame, deadline, timeoutMillis, anyGroup, target,
                asked);
        pending.put(p.id, p);
        p.timeout = timer.newTimeout(t -> {
            if (pending.remove(p.id, p)) {
                Frame f = p.expire();
                if (f != null) {
                    stats.expired.increment();
                    p.origin.accept(f);
                }
            }
        }, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return p;
    }

    private static String pick(Set<String> members, Set<String> except) {
        List<String> candidates = new ArrayList<>(members.size());
        for (String m : members) {
            if (!except.contains(m)) {
                candidates.add(m);
            }
        }
        return candidates.isEmpty() ? null : candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
    }

    /** A group's members, from the short-lived cache unless {@code fresh}. */
    public CompletionStage<Set<String>> members(String group, boolean fresh) {
        CachedMembers c = groups.get(group);
        if (!fresh && c != null && c.until - System.nanoTime() > 0) {
            return CompletableFuture.completedFuture(c.members);
        }
        return records.members(group).thenApply(m -> {
            groups.put(group, new CachedMembers(m, System.nanoTime() + settings.groupCacheTtl().toNanos()));
            return m;
        });
    }

    void forgetGroup(String group) {
        groups.remove(group);
    }

    /** Sends a call or cast to one component, looking its node up on a cache miss (or when {@code fresh}). */
    private void deliverTo(String component, Frame frame, PendingCall p, long deadline, Consumer<Error> castError,
                           boolean fresh) {
        String node = fresh ? null : locations.get(component);
        if (node != null) {
            send(node, component, frame, p, deadline);
            return;
        }
        stats.locationLookups.increment();
        records.location(component).whenComplete((loc, err) -> {
            if (err != null) {
                fail(p, component, castError, Error.Code.UNAVAILABLE, "cannot look up component " + component + ": "
                        + rootMessage(err));
            } else if (loc.isEmpty()) {
                fail(p, component, castError, Error.Code.UNKNOWN_TARGET, "component " + component + " is not connected");
            } else {
                locations.put(component, loc.get().getNode());
                send(loc.get().getNode(), component, frame, p, deadline);
            }
        });
    }

    private void send(String node, String component, Frame frame, PendingCall p, long deadline) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
            return; // the expiry timer answers the caller
        }
        Deliver d = Deliver.newBuilder().setComponent(component)
                .setFrame(frame.toBuilder().setTimeoutMs((int) Math.max(1, left)))
                .setPending(p == null ? 0 : p.id).build();
        if (node.equals(self)) {
            onDeliver(self, d);
        } else if (!nodes.send(node, HubRelay.newBuilder().setFromNode(self).setDeliver(d).build())) {
            onReturned(Returned.newBuilder().setPending(d.getPending()).setComponent(component).setFrame(d.getFrame()).build(), node);
        }
    }

    private void fail(PendingCall p, String component, Consumer<Error> castError, Error.Code code, String message) {
        Error error = Error.newBuilder().setCode(code).setMessage(message).build();
        if (p == null) {
            castError.accept(error);
            return;
        }
        if (p.anyGroup != null && code == Error.Code.UNKNOWN_TARGET) {
            retryAny(p, component);
            return;
        }
        if (!p.fanOut) {
            finish(p, p.fail(error)); // one target: the caller gets the hub's error itself
            return;
        }
        onAnswer(p.id, Result.newBuilder().setFrom(component).setError(error).build());
    }

    /** The member an ANY call went to has gone: pick another from a fresh member list. */
    private void retryAny(PendingCall p, String gone) {
        members(p.anyGroup, true).whenComplete((members, err) -> {
            String next = err == null ? pick(members, p.triedSoFar()) : null;
            if (next == null || !p.tried(next)) {
                finish(p, p.fail(Error.newBuilder().setCode(Error.Code.NO_MEMBERS)
                        .setMessage("group " + p.anyGroup + " has no members (left: " + gone + ")").build()));
                return;
            }
            deliverTo(next, p.frame, p, p.deadlineNanos, e -> {}, false);
        });
    }

    private void finish(PendingCall p, Frame answer) {
        if (answer == null) {
            return;
        }
        pending.remove(p.id, p);
        io.netty.util.Timeout t = p.timeout;
        if (t != null) {
            t.cancel();
        }
        p.origin.accept(answer);
    }

    // ---- receiving: node relays and local deliveries -----------------------------------------------

    /** A message from another node's router. */
    public void onRelay(HubRelay m) {
        switch (m.getBodyCase()) {
            case DELIVER -> onDeliver(m.getFromNode(), m.getDeliver());
            case ANSWER -> onAnswer(m.getAnswer().getPending(), m.getAnswer().getResult());
            case RETURNED -> onReturned(m.getReturned(), m.getFromNode());
            case NOTIFY -> {
                Session s = sessions.get(m.getNotify().getComponent());
                if (s != null) {
                    s.push(m.getNotify().getEvent());
                }
            }
            case TERMINATE -> {
                Session s = sessions.get(m.getTerminate().getComponent());
                if (s != null) {
                    s.terminate(m.getTerminate().getTerminate());
                }
            }
            case CAST_REFUSED -> {
                CastRefused r = m.getCastRefused();
                Session s = sessions.get(r.getComponent());
                if (s != null) {
                    s.send(Frame.newBuilder().setCorrelation(r.getCorrelation()).setError(r.getError()).build());
                }
            }
            default -> LOG.warn("Ignoring a hub relay without a body from {}", m.getFromNode());
        }
    }

    private void onDeliver(String fromNode, Deliver d) {
        Session s = sessions.get(d.getComponent());
        if (s == null) {
            stats.returned.increment();
            Returned r = Returned.newBuilder().setPending(d.getPending()).setComponent(d.getComponent())
                    .setFrame(d.getFrame()).build();
            if (fromNode.equals(self)) {
                onReturned(r, self);
            } else {
                nodes.send(fromNode, HubRelay.newBuilder().setFromNode(self).setReturned(r).build());
            }
            return;
        }
        s.deliver(fromNode, d);
    }

    /**
     * A cast delivered from {@code fromNode} could not be passed to its component: if it asked for errors
     * (correlation not 0), its sender hears why. Dropped when the sender is gone.
     */
    void castRefused(String fromNode, Frame cast, Error.Code code, String message) {
        if (cast.getCorrelation() == 0) {
            return;
        }
        CastRefused r = CastRefused.newBuilder().setComponent(cast.getCast().getCaller()).setCorrelation(cast.getCorrelation())
                .setError(Error.newBuilder().setCode(code).setMessage(message)).build();
        if (fromNode.equals(self)) {
            onRelay(HubRelay.newBuilder().setFromNode(self).setCastRefused(r).build());
        } else {
            nodes.send(fromNode, HubRelay.newBuilder().setFromNode(self).setCastRefused(r).build());
        }
    }

    /** The answer of a delivered call, from the callee's session (any node). */
    void answer(String toNode, long pendingId, Result result) {
        if (toNode.equals(self)) {
            onAnswer(pendingId, result);
        } else {
            nodes.send(toNode, HubRelay.newBuilder().setFromNode(self)
                    .setAnswer(Answer.newBuilder().setPending(pendingId).setResult(result)).build());
        }
    }

    private void onAnswer(long pendingId, Result result) {
        PendingCall p = pending.get(pendingId);
        if (p == null) {
            stats.lateAnswers.increment(); // expired, or answered already: dropped
            return;
        }
        Frame reply = p.add(result);
        if (reply != null) {
            finish(p, reply);
        }
    }

    /** A Deliver came back: the component was not connected where the cache said. */
    private void onReturned(Returned r, String staleNode) {
        locations.remove(r.getComponent(), staleNode);
        PendingCall p = r.getPending() == 0 ? null : pending.get(r.getPending());
        if (r.getPending() != 0 && p == null) {
            return; // already expired
        }
        records.location(r.getComponent()).whenComplete((loc, err) -> {
            Optional<Location> where = err == null ? loc : Optional.empty();
            if (where.isPresent() && !where.get().getNode().equals(staleNode)) {
                locations.put(r.getComponent(), where.get().getNode());
                send(where.get().getNode(), r.getComponent(), r.getFrame(), p,
                        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(r.getFrame().getTimeoutMs()));
            } else if (p != null) {
                fail(p, r.getComponent(), e -> {}, Error.Code.UNKNOWN_TARGET, "component " + r.getComponent() + " is not connected");
            } else if (r.getFrame().hasCast()) {
                castRefused(self, r.getFrame(), Error.Code.UNKNOWN_TARGET, "component " + r.getComponent() + " is not connected");
            }
        });
    }

    // ---- events, links ----------------------------------------------------------------------------

    /** Tells the watchers of {@code group} that {@code component} joined or left it. */
    void groupChanged(String group, String component, boolean joined, String reason) {
        Event event = Event.newBuilder().setGroupChanged(GroupChanged.newBuilder().setGroup(group)
                .setComponent(component).setJoined(joined).setReason(reason)).build();
        records.watchers(HubKeys.groupWatchers(group)).thenAccept(entries -> {
            for (String e : entries) {
                if (e.startsWith("group:")) {
                    push(e.substring("group:".length()), event);
                }
            }
        });
    }

    /**
     * Removes the membership of a component's session that went away from {@code group} (a later session of
     * the component stays a member) and tells the group's watchers.
     */
    CompletionStage<Integer> leaveGroup(String group, String component, long session, String reason) {
        return records.removeMember(group, component, session).whenComplete((n, err) -> {
            if (err == null) {
                forgetGroup(group);
                groupChanged(group, component, false, reason);
            }
        });
    }

    /**
     * Tells the monitors of a component that went away (a monitor fires once) and terminates the
     * components linked to it.
     */
    void announceGone(String component, String reason) {
        String key = HubKeys.watchers(component);
        records.watchers(key).thenAccept(entries -> {
            for (String e : entries) {
                if (e.startsWith("down:")) {
                    push(e.substring(5), Event.newBuilder().setComponentDown(ComponentDown.newBuilder()
                            .setComponent(component).setReason(reason)).build());
                    records.removeWatcher(key, e);
                } else if (e.startsWith("link:")) {
                    terminate(e.substring(5), "linked component " + component + " went away (" + reason + ")");
                    records.removeWatcher(key, e);
                }
            }
        });
    }

    /**
     * Incarnation {@code incarnation} of node {@code lost} left the cluster for good (it was downed or
     * removed): the components that were connected to its hub went away with it. Clears their locations,
     * takes their sessions out of every group and tells their monitors and links, as a disconnect would —
     * except for a component that has connected again since (to another node, or to a restarted
     * {@code lost}). Sessions of another incarnation of {@code lost} are left alone: a node started again
     * under the same name may hold them already, and its old incarnation can be removed after that. One
     * node of the cluster runs this per lost incarnation. Completes with how many components were gone.
     */
    public CompletionStage<Integer> nodeLost(String lost, long incarnation) {
        return records.connected(lost).thenCompose(entries -> {
            List<CompletableFuture<Optional<HubRecords.Connected>>> checks = new ArrayList<>();
            for (HubRecords.Connected c : entries) {
                long of = c.location().getIncarnation();
                if (of != incarnation && of != 0) { // 0: noted before incarnations were kept, may be this one's
                    continue;
                }
                checks.add(records.location(c.component()).thenCompose(now -> {
                    if (now.isPresent() && !now.get().equals(c.location())) {
                        return records.removeConnected(c.component(), c.location())
                                .thenApply(n -> Optional.<HubRecords.Connected>empty());
                    }
                    locations.remove(c.component(), lost);
                    return records.clearLocation(c.component(), c.location()).thenApply(x -> Optional.of(c));
                }).toCompletableFuture());
            }
            return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                List<HubRecords.Connected> goneEntries = new ArrayList<>();
                checks.forEach(c -> c.join().ifPresent(goneEntries::add));
                Map<String, Long> gone = new HashMap<>();
                goneEntries.forEach(c -> gone.merge(c.component(), c.location().getSession(), Math::max));
                if (gone.isEmpty()) {
                    return CompletableFuture.completedFuture(0);
                }
                String reason = "node " + lost + " lost";
                LOG.info("Node {} was lost with {} component(s) connected to its hub: they went away", lost, gone.size());
                gone.keySet().forEach(c -> announceGone(c, reason));
                // Groups are not indexed by member: look through every group once.
                return records.groups().thenCompose(groups -> {
                    List<CompletableFuture<?>> leaves = new ArrayList<>();
                    for (String g : groups) {
                        leaves.add(records.members(g).thenCompose(members -> {
                            List<CompletableFuture<Integer>> out = new ArrayList<>();
                            for (String m : members) {
                                Long session = gone.get(m);
                                if (session != null) {
                                    out.add(leaveGroup(g, m, session, reason).toCompletableFuture());
                                }
                            }
                            return CompletableFuture.allOf(out.toArray(CompletableFuture[]::new));
                        }).toCompletableFuture());
                    }
                    return CompletableFuture.allOf(leaves.toArray(CompletableFuture[]::new));
                }).thenCompose(y -> CompletableFuture.allOf(goneEntries.stream()
                        .map(c -> records.removeConnected(c.component(), c.location()).toCompletableFuture())
                        .toArray(CompletableFuture[]::new)))
                        .thenApply(y -> gone.size());
            });
        });
    }

    /** Pushes an event to a component wherever it is connected; dropped if it is nowhere. */
    void push(String component, Event event) {
        Session s = sessions.get(component);
        if (s != null) {
            s.push(event);
            return;
        }
        locate(component).thenAccept(node -> node.ifPresent(n -> nodes.send(n, HubRelay.newBuilder().setFromNode(self)
                .setNotify(Notify.newBuilder().setComponent(component).setEvent(event)).build())));
    }

    /** Tells a component's harness to terminate it (a link fired). */
    void terminate(String component, String reason) {
        Terminate t = Terminate.newBuilder().setReason(reason).setGraceMs((int) settings.terminateGrace().toMillis()).build();
        Session s = sessions.get(component);
        if (s != null) {
            s.terminate(t);
            return;
        }
        locate(component).thenAccept(node -> node.ifPresent(n -> nodes.send(n, HubRelay.newBuilder().setFromNode(self)
                .setTerminate(TerminateComponent.newBuilder().setComponent(component).setTerminate(t)).build())));
    }

    CompletionStage<Optional<String>> locate(String component) {
        String node = locations.get(component);
        if (node != null) {
            return CompletableFuture.completedFuture(Optional.of(node));
        }
        return records.location(component).handle((loc, err) -> err == null ? loc.map(Location::getNode) : Optional.empty());
    }

    /** Drops answers-in-waiting of callees that ran out of time, so a silent component cannot grow memory. */
    private void sweep() {
        long now = System.nanoTime();
        sessions.values().forEach(s -> s.sweep(now));
        timer.newTimeout(t -> sweep(), 1, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        timer.stop();
        sessions.values().forEach(s -> s.link().close());
    }

    /** The innermost cause's message: what went wrong, without the wrappers. */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    static Frame error(long correlation, Error.Code code, String message) {
        return Frame.newBuilder().setCorrelation(correlation).setError(Error.newBuilder().setCode(code).setMessage(message)).build();
    }
}
