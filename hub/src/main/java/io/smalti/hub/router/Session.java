package io.smalti.hub.router;

import com.google.protobuf.ByteString;
import io.smalti.hub.records.HubKeys;
import io.smalti.hub.records.HubRecords;
import io.smalti.protocol.hub.AttributeChanged;
import io.smalti.protocol.hub.AttributeTarget;
import io.smalti.protocol.hub.Attributes;
import io.smalti.protocol.hub.ComponentDown;
import io.smalti.protocol.hub.Deliver;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Event;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.GroupCount;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.Log;
import io.smalti.protocol.hub.Members;
import io.smalti.protocol.hub.Membership;
import io.smalti.protocol.hub.Ok;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Selector;
import io.smalti.protocol.hub.Subject;
import io.smalti.protocol.hub.Terminate;
import io.smalti.protocol.hub.UpdateAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One component connected to this node's hub (or a tool of this node): runs the requests it sends,
 * delivers calls, casts and events to it, and makes it go away for everyone else when its connection
 * closes. Thread-safe: frames from the component arrive on its connection's thread, deliveries from
 * any thread.
 */
public final class Session {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    /** Calls delivered to one component and not yet answered; beyond it, callers get OVERLOADED. */
    private static final int MAX_INBOUND = 100_000;
    /** Frames held for a component between its hello and its Welcome; beyond it, senders get OVERLOADED. */
    private static final int MAX_EARLY = 10_000;

    private final Router router;
    private final HubRecords records;
    private final String component;
    private final HarnessLink link;
    private final Location location;
    private final boolean tool;
    private final Set<String> groups = ConcurrentHashMap.newKeySet();
    private final Set<Watch> watching = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<Long, Inbound> inbound = new ConcurrentHashMap<>();
    private final AtomicLong correlations = new AtomicLong();
    /**
     * Deliveries can reach a session as soon as its location is recorded, before its harness has its Welcome;
     * they wait here so that the Welcome is the first frame the harness reads. Null once welcomed.
     */
    private List<Frame> early;
    private volatile boolean welcomed;
    /** Why its node ended the session ({@link Router#disconnect}); null when the connection just closed. */
    volatile String endedBecause;

    /** Set when the component went away: a group join still being written must then be undone. */
    private volatile boolean gone;

    private record Watch(String key, String entry) {}

    /** A call delivered to this component: where its answer goes. */
    private record Inbound(String fromNode, long pending, long deadlineNanos) {}

    Session(Router router, String component, HarnessLink link, Location location, boolean tool) {
        this.router = router;
        this.records = router.records();
        this.component = component;
        this.link = link;
        this.location = location;
        this.tool = tool;
        this.welcomed = tool;
        this.early = tool ? null : new ArrayList<>();
    }

    public String component() {
        return component;
    }

    HarnessLink link() {
        return link;
    }

    /** The connection closed: the component goes away for its monitors, links and groups. */
    public void closed() {
        if (!tool) {
            router.closed(this);
        }
    }

    // ---- frames from the component -----------------------------------------------------------------

    /** Runs one frame the component sent (after its hello). */
    public void onFrame(Frame f) {
        long c = f.getCorrelation();
        switch (f.getBodyCase()) {
            case CALL, CAST -> router.route(component, f, this::send);
            case REPLY -> onReply(f);
            case ERROR -> onError(f);
            case REGISTER -> {
                if (tool) {
                    send(Router.error(c, Error.Code.FORBIDDEN, "a tool cannot join groups"));
                    return;
                }
                answer(c, changeGroups(f.getRegister().getGroupsList(), true));
            }
            case UNREGISTER -> answer(c, changeGroups(f.getUnregister().getGroupsList(), false));
            case SELECT -> answer(c, select(f.getSelect().getGroup(), f.getSelect().getSelector()));
            case MONITOR -> answer(c, monitor(f.getMonitor().getSubject(), true));
            case DEMONITOR -> answer(c, monitor(f.getDemonitor().getSubject(), false));
            case LINK -> answer(c, link(f.getLink().getComponent()));
            case UPDATE_ATTRIBUTES -> answer(c, updateAttributes(f.getUpdateAttributes()));
            case SELECT_ATTRIBUTES -> answer(c, selectAttributes(f.getSelectAttributes().getTarget(),
                    f.getSelectAttributes().getNamesList()));
            case LOG -> log(f.getLog());
            case HELLO -> send(Router.error(c, Error.Code.BAD_REQUEST, "hello was already said on this connection"));
            case BODY_NOT_SET -> send(Router.error(c, Error.Code.BAD_REQUEST, "the frame has no body (or one this hub does not know)"));
            default -> send(Router.error(c, Error.Code.BAD_REQUEST, "a component does not send " + f.getBodyCase()));
        }
    }

    /** Sends a frame to the component; counts it if the queue was full. */
    boolean send(Frame frame) {
        if (!welcomed) {
            synchronized (this) {
                if (!welcomed) {
                    if (early.size() < MAX_EARLY) {
                        early.add(frame);
                        return true;
                    }
                    router.stats.overloaded.increment();
                    return false;
                }
            }
        }
        boolean sent = link.send(frame);
        if (!sent) {
            router.stats.overloaded.increment();
        }
        return sent;
    }

    /** Sends the harness its Welcome, then whatever reached the component before it. Once, on the connection's thread. */
    public synchronized void welcome(Frame welcome) {
        link.send(welcome);
        early.forEach(link::send);
        early = null;
        welcomed = true;
    }

    /** A request's outcome: the answer body, or a {@link HubError}. */
    private void answer(long correlation, CompletionStage<Frame.Builder> outcome) {
        outcome.whenComplete((b, err) -> {
            if (err == null) {
                send(b.setCorrelation(correlation).build());
            } else {
                Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
                if (t instanceof HubError h) {
                    send(Router.error(correlation, h.code, h.getMessage()));
                } else {
                    send(Router.error(correlation, Error.Code.UNAVAILABLE, "the ring could not answer: " + Router.rootMessage(t)));
                }
            }
        });
    }

    /** A request refused with a protocol error code. */
    static final class HubError extends RuntimeException {
        final Error.Code code;

        HubError(Error.Code code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private static <T> CompletionStage<T> refuse(Error.Code code, String message) {
        return CompletableFuture.failedFuture(new HubError(code, message));
    }

    private static String group(String name) {
        try {
            return HubKeys.checkGroup(name);
        } catch (IllegalArgumentException e) {
            throw new HubError(Error.Code.BAD_REQUEST, e.getMessage());
        }
    }

    private static String componentId(String id) {
        try {
            return HubKeys.checkComponent(id);
        } catch (IllegalArgumentException e) {
            throw new HubError(Error.Code.BAD_REQUEST, e.getMessage());
        }
    }

    private static <T> CompletionStage<T> guarded(java.util.function.Supplier<CompletionStage<T>> body) {
        try {
            return body.get();
        } catch (HubError e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    // ---- groups ------------------------------------------------------------------------------------

    CompletionStage<Frame.Builder> changeGroups(List<String> names, boolean join) {
        return guarded(() -> {
            if (names.isEmpty()) {
                return refuse(Error.Code.BAD_REQUEST, (join ? "register" : "unregister") + " names no group");
            }
            List<String> checked = names.stream().map(Session::group).distinct().toList();
            List<CompletableFuture<GroupCount>> counts = new ArrayList<>();
            for (String g : checked) {
                if (join) {
                    groups.add(g); // before the write, so that going away meanwhile also leaves this group
                }
                long session = location.getSession();
                CompletionStage<Integer> n = join ? records.addMember(g, component, session)
                        : records.removeMember(g, component, session);
                counts.add(n.thenApply(count -> {
                    if (join && gone) {
                        records.removeMember(g, component, session); // went away while joining: its leave may have come first
                    } else if (!join) {
                        groups.remove(g);
                    }
                    router.forgetGroup(g);
                    router.groupChanged(g, component, join, join ? "" : "unregistered");
                    return GroupCount.newBuilder().setGroup(g).setMembers(count).build();
                }).toCompletableFuture());
            }
            return CompletableFuture.allOf(counts.toArray(CompletableFuture[]::new)).thenApply(x -> Frame.newBuilder()
                    .setMembership(Membership.newBuilder().addAllGroups(counts.stream().map(CompletableFuture::join).toList())));
        });
    }

    CompletionStage<Frame.Builder> select(String name, Selector selector) {
        return guarded(() -> {
            String g = group(name);
            return router.members(g, false).thenApply(m -> {
                List<String> chosen = new ArrayList<>(m);
                if (selector == Selector.ANY && chosen.size() > 1) {
                    chosen = List.of(chosen.get(ThreadLocalRandom.current().nextInt(chosen.size())));
                }
                return Frame.newBuilder().setMembers(Members.newBuilder().setGroup(g).addAllComponents(chosen));
            });
        });
    }

    // ---- monitors and links ------------------------------------------------------------------------

    CompletionStage<Frame.Builder> monitor(Subject subject, boolean start) {
        return guarded(() -> {
            String key;
            String entry;
            switch (subject.getKindCase()) {
                case GROUP -> {
                    key = HubKeys.groupWatchers(group(subject.getGroup()));
                    entry = "group:" + component;
                }
                case COMPONENT -> {
                    key = HubKeys.watchers(componentId(subject.getComponent()));
                    entry = "down:" + component;
                }
                case ATTRIBUTES -> {
                    AttributeTarget t = subject.getAttributes();
                    key = switch (t.getKindCase()) {
                        case COMPONENT -> HubKeys.watchers(componentId(t.getComponent()));
                        case GROUP -> HubKeys.groupWatchers(group(t.getGroup()));
                        default -> throw new HubError(Error.Code.BAD_REQUEST, "attribute monitor names no component or group");
                    };
                    entry = "attributes:" + component;
                }
                default -> {
                    return refuse(Error.Code.BAD_REQUEST, "monitor names no subject (group, component or attributes)");
                }
            }
            Watch w = new Watch(key, entry);
            if (!start) {
                watching.remove(w);
                return records.removeWatcher(key, entry).thenApply(n -> Frame.newBuilder().setOk(Ok.getDefaultInstance()));
            }
            watching.add(w);
            return records.addWatcher(key, entry).thenCompose(n -> {
                if (!subject.hasComponent()) {
                    return CompletableFuture.completedFuture(Frame.newBuilder().setOk(Ok.getDefaultInstance()));
                }
                // Watching a component that is not connected: it is already down, as far as anyone can tell.
                String watched = subject.getComponent().toLowerCase();
                return records.location(watched).thenApply(loc -> {
                    if (loc.isEmpty()) {
                        push(Event.newBuilder().setComponentDown(ComponentDown.newBuilder().setComponent(watched)
                                .setReason("not connected")).build());
                    }
                    return Frame.newBuilder().setOk(Ok.getDefaultInstance());
                });
            });
        });
    }

    CompletionStage<Frame.Builder> link(String target) {
        return guarded(() -> {
            String id = componentId(target);
            if (tool) {
                return refuse(Error.Code.FORBIDDEN, "a tool cannot link to a component");
            }
            return records.location(id).thenCompose(loc -> {
                if (loc.isEmpty()) {
                    return refuse(Error.Code.UNKNOWN_TARGET, "component " + id + " is not connected");
                }
                Watch w = new Watch(HubKeys.watchers(id), "link:" + component);
                watching.add(w);
                return records.addWatcher(w.key, w.entry).thenApply(n -> Frame.newBuilder().setOk(Ok.getDefaultInstance()));
            });
        });
    }

    // ---- attributes --------------------------------------------------------------------------------

    private record AttributeKeys(String attributes, String watchers) {}

    private AttributeKeys attributeKeys(AttributeTarget t, boolean write) {
        switch (t.getKindCase()) {
            case COMPONENT -> {
                String id = componentId(t.getComponent());
                if (write && !tool && !id.equals(component)) {
                    throw new HubError(Error.Code.FORBIDDEN, "a component may update only its own attributes and its groups', not "
                            + id + "'s");
                }
                return new AttributeKeys(HubKeys.attributes(id), HubKeys.watchers(id));
            }
            case GROUP -> {
                String g = group(t.getGroup());
                if (write && !tool && !groups.contains(g)) {
                    throw new HubError(Error.Code.FORBIDDEN, "not a member of group " + g + ": cannot update its attributes");
                }
                return new AttributeKeys(HubKeys.groupAttributes(g), HubKeys.groupWatchers(g));
            }
            default -> throw new HubError(Error.Code.BAD_REQUEST, "attribute target names no component or group");
        }
    }

    CompletionStage<Frame.Builder> updateAttributes(UpdateAttributes u) {
        return guarded(() -> {
            if (u.getSetCount() == 0 && u.getRemoveCount() == 0) {
                return refuse(Error.Code.BAD_REQUEST, "update sets and removes no attribute");
            }
            AttributeKeys keys = attributeKeys(u.getTarget(), true);
            return records.updateAttributes(keys.attributes, u.getSetMap(), u.getRemoveList()).thenApply(x -> {
                List<Event> events = new ArrayList<>();
                new TreeMap<>(u.getSetMap()).forEach((name, value) -> events.add(attributeEvent(u.getTarget(), name, value, false)));
                u.getRemoveList().forEach(name -> events.add(attributeEvent(u.getTarget(), name, ByteString.EMPTY, true)));
                records.watchers(keys.watchers).thenAccept(entries -> entries.stream().filter(e -> e.startsWith("attributes:"))
                        .forEach(e -> events.forEach(ev -> router.push(e.substring("attributes:".length()), ev))));
                return Frame.newBuilder().setOk(Ok.getDefaultInstance());
            });
        });
    }

    private static Event attributeEvent(AttributeTarget target, String name, ByteString value, boolean removed) {
        return Event.newBuilder().setAttributeChanged(AttributeChanged.newBuilder().setTarget(target).setName(name)
                .setValue(value).setRemoved(removed)).build();
    }

    CompletionStage<Frame.Builder> selectAttributes(AttributeTarget target, List<String> names) {
        return guarded(() -> {
            AttributeKeys keys = attributeKeys(target, false);
            return records.attributes(keys.attributes).thenApply(values -> {
                Map<String, ByteString> chosen = names.isEmpty() ? values : new TreeMap<>();
                if (!names.isEmpty()) {
                    names.forEach(n -> {
                        if (values.containsKey(n)) {
                            chosen.put(n, values.get(n));
                        }
                    });
                }
                return Frame.newBuilder().setAttributes(Attributes.newBuilder().setTarget(target).putAllValues(chosen));
            });
        });
    }

    private void log(Log l) {
        String fields = l.getFieldsCount() == 0 ? "" : " " + new TreeMap<>(l.getFieldsMap());
        switch (l.getLevel()) {
            case ERROR -> LOG.error("[{}] {}{}", component, l.getMessage(), fields);
            case WARN -> LOG.warn("[{}] {}{}", component, l.getMessage(), fields);
            case DEBUG -> LOG.debug("[{}] {}{}", component, l.getMessage(), fields);
            default -> LOG.info("[{}] {}{}", component, l.getMessage(), fields);
        }
    }

    // ---- deliveries to the component ---------------------------------------------------------------

    /** A call or cast for this component, from the router of {@code fromNode}. */
    void deliver(String fromNode, Deliver d) {
        Frame f = d.getFrame();
        if (f.hasCast()) {
            if (!send(f.getCorrelation() == 0 ? f : f.toBuilder().setCorrelation(0).build())) {
                router.castRefused(fromNode, f, Error.Code.OVERLOADED, "the queue to component " + component + " is full");
            }
            return;
        }
        if (inbound.size() >= MAX_INBOUND) {
            router.answer(fromNode, d.getPending(), failed(Error.Code.OVERLOADED, "component " + component + " has "
                    + MAX_INBOUND + " calls waiting for an answer"));
            return;
        }
        long correlation = correlations.incrementAndGet();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(router.timeoutMillis(f));
        inbound.put(correlation, new Inbound(fromNode, d.getPending(), deadline));
        if (!send(f.toBuilder().setCorrelation(correlation).build())) {
            inbound.remove(correlation);
            router.answer(fromNode, d.getPending(), failed(Error.Code.OVERLOADED, "the queue to component " + component
                    + " is full"));
        }
    }

    private Result failed(Error.Code code, String message) {
        return Result.newBuilder().setFrom(component).setError(Error.newBuilder().setCode(code).setMessage(message)).build();
    }

    private void onReply(Frame f) {
        Inbound in = inbound.remove(f.getCorrelation());
        if (in == null || in.deadlineNanos - System.nanoTime() < 0) {
            router.stats.lateAnswers.increment(); // unknown, or its caller has given up: dropped
            return;
        }
        Result r = f.getReply().getResultsCount() > 0 ? f.getReply().getResults(0) : Result.getDefaultInstance();
        router.answer(in.fromNode, in.pending, r.toBuilder().setFrom(component).build());
    }

    /** The harness (or component) refused a delivered call, e.g. its queue to the component was full. */
    private void onError(Frame f) {
        Inbound in = inbound.remove(f.getCorrelation());
        if (in == null) {
            LOG.debug("Component {} sent an error for no call of ours: {}", component, f.getError().getMessage());
            return;
        }
        router.answer(in.fromNode, in.pending, Result.newBuilder().setFrom(component).setError(f.getError()).build());
    }

    void push(Event event) {
        send(Frame.newBuilder().setEvent(event).build());
    }

    void terminate(Terminate t) {
        LOG.info("Terminating component {}: {}", component, t.getReason());
        send(Frame.newBuilder().setTerminate(t).build());
    }

    void sweep(long now) {
        inbound.values().removeIf(in -> in.deadlineNanos - now < 0);
    }

    /** Tells everyone who watches this component that it went away, and leaves its groups. */
    void goneAway(String reason) {
        gone = true;
        LOG.info("Component {} went away ({})", component, reason);
        records.clearLocation(component, location);
        records.removeConnected(component, location);
        for (String g : Set.copyOf(groups)) {
            router.leaveGroup(g, component, location.getSession(), reason);
        }
        router.announceGone(component, reason);
        for (Watch w : watching) {
            records.removeWatcher(w.key, w.entry);
        }
    }
}
