package io.smalti.component.instances;

import io.smalti.bundle.BundleException;
import io.smalti.bundle.Manifest;
import io.smalti.component.bundles.BundleRepository;
import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.component.scheduling.Scheduler;
import io.smalti.protocol.component.BundleMeta;
import io.smalti.protocol.component.DrainMark;
import io.smalti.protocol.component.InstanceStatus;
import io.smalti.protocol.component.NodeStatus;
import io.smalti.protocol.component.Placement;
import io.smalti.protocol.component.StatusChange;
import io.smalti.protocol.component.StopMark;
import io.smalti.protocol.component.TypeRecord;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import io.smalti.ring.id.TypeCluster;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The component controller: types (register, unregister, scale), instances (create, terminate, destroy,
 * list) and, for each type whose primary vnode this node holds (or stands in for), the scaler: it keeps
 * the desired number of live instances, placing new ones with the {@link Scheduler}, replacing those lost
 * with a node or moved off a drained node, and terminating extras. Operator calls can be made on any node;
 * the placement decisions are taken only by the type's controller node. Thread-safe; calls never block;
 * the scaler runs on its own thread.
 */
public final class ComponentController implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ComponentController.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long an ended instance stays listed (ps --all) before it is forgotten. */
    private static final long FORGET_AFTER_MILLIS = 10 * 60_000;

    private final String self;
    private final Function<Manifest, Optional<String>> admission;
    private final ComponentRecords records;
    private final BundleRepository bundles;
    private final RingView ringView;
    private final ClusterMembers members;
    private final Duration lostAfter;
    private final ScheduledExecutorService timer;
    private final AtomicBoolean running = new AtomicBoolean();
    private final Map<String, Long> unavailableSince = new ConcurrentHashMap<>();
    /**
     * Per type, the instances this node placed in the last seconds: they count as live even if a read does
     * not show them yet, so a round never places the same instance twice.
     */
    private final Map<String, Map<String, Long>> recentlyPlaced = new ConcurrentHashMap<>();
    private static final long RECENT_MILLIS = 10_000;
    /** Per type: no new instances before this time (its instances keep failing to start or run). */
    private final Map<String, Long> holdUntil = new ConcurrentHashMap<>();
    private volatile Consumer<String> placementChanged = node -> { };
    /** Failures within this window that make the scaler back off. */
    private static final long CRASH_WINDOW_MILLIS = 60_000;
    private static final int CRASH_LIMIT = 3;

    /**
     * @param lostAfter how long a node may be unreachable before its instances are replaced elsewhere
     */
    public ComponentController(String self, ComponentRecords records, BundleRepository bundles, RingView ringView,
                               ClusterMembers members, Duration lostAfter, Duration interval) {
        this(self, records, bundles, ringView, members, lostAfter, interval, m -> Optional.empty());
    }

    /**
     * @param admission why this node refuses a bundle (e.g. a host mount outside its allow-list), asked when its
     *                  type is registered; empty to admit
     */
    public ComponentController(String self, ComponentRecords records, BundleRepository bundles, RingView ringView,
                               ClusterMembers members, Duration lostAfter, Duration interval,
                               Function<Manifest, Optional<String>> admission) {
        this.self = self;
        this.admission = admission;
        this.records = records;
        this.bundles = bundles;
        this.ringView = ringView;
        this.members = members;
        this.lostAfter = lostAfter;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "component-controller");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        records.onWritten(key -> {
            if (ComponentKeys.actedOn(key)) {
                poke(); // a record the scaler acts on, written through this node (an instance's state, a mark)
            }
        });
    }

    /**
     * Calls {@code listener} with the node's name after this controller placed an instance there or changed an
     * instance's goal there (on the thread that wrote it; it must not block): the node's own agent can act at
     * once instead of at its next round.
     */
    public void onPlacementChanged(Consumer<String> listener) {
        this.placementChanged = listener;
    }

    // ---- types ---------------------------------------------------------------------------------

    /**
     * The most instances one type may want: every count an operator gives (register, scale, create) is
     * refused above it, so that a slip (10000 for 100) cannot flood the cluster. A constant, not a setting:
     * it is part of the API (docs/api.md) and the CLI checks it before it sends.
     */
    public static final int MAX_COUNT = 1000;

    /**
     * The error for a count outside {@code min..MAX_COUNT}, with the count as the caller wrote it
     * ({@code -1}, {@code 2.5}, {@code "3"}).
     */
    public static IllegalArgumentException badCount(int min, Object given) {
        return new IllegalArgumentException("\"count\" must be a whole number from " + min + " to " + MAX_COUNT
                + ", got " + given);
    }

    /** The type id of a bundle: one bundle, one type, so registering twice names the same type. */
    public static String typeId(String bundleDigest) {
        return Id.ofName(Category.TYPE, bundleDigest).toString();
    }

    /** A registered type with its instances counted. */
    public record TypeView(TypeRecord type, int instances, int available) {}

    /**
     * Registers the type of a stored bundle, or updates its desired count ({@code count} empty: keep it,
     * 0 for a new type; else 0..{@link #MAX_COUNT}). Completes with the type and whether it is new.
     */
    public CompletionStage<Map.Entry<TypeRecord, Boolean>> register(String digest, Optional<Integer> count) {
        if (count.isPresent() && (count.get() < 0 || count.get() > MAX_COUNT)) {
            // Before anything is read: a negative desired count made the scaler terminate every instance.
            return CompletableFuture.failedFuture(badCount(0, count.get()));
        }
        return bundles.meta(digest).thenCompose(m -> {
            BundleMeta meta = m.orElseThrow(() -> new NoSuchElementException("no bundle " + digest + " is stored; push it first"));
            // Refused here, at deploy, rather than by every node at each start (the developer sees why).
            admission.apply(BundleRepository.manifest(meta)).ifPresent(why -> {
                throw new IllegalArgumentException("bundle " + meta.getName() + " " + meta.getVersion() + ": " + why);
            });
            String id = typeId(digest);
            return records.get(ComponentKeys.type(id), TypeRecord.parser()).thenCompose(existing -> {
                boolean created = existing.isEmpty() || existing.get().getUnregistered();
                TypeRecord type = (created ? TypeRecord.newBuilder()
                        .setId(id).setName(meta.getName()).setVersion(meta.getVersion()).setBundle(digest)
                        .setRegisteredAtMillis(System.currentTimeMillis()) : existing.get().toBuilder())
                        .setUnregistered(false)
                        .setDesired(count.orElse(created ? 0 : existing.get().getDesired()))
                        .build();
                return records.put(ComponentKeys.type(id), type)
                        .thenCompose(x -> records.add(ComponentKeys.TYPE_INDEX, id))
                        .thenApply(x -> {
                            poke();
                            return Map.entry(type, created);
                        });
            });
        });
    }

    /** Sets a type's desired count (0..{@link #MAX_COUNT}); completes with the updated type. */
    public CompletionStage<TypeRecord> scale(String typeIdOrName, int count) {
        if (count < 0 || count > MAX_COUNT) {
            return CompletableFuture.failedFuture(badCount(0, count));
        }
        return type(typeIdOrName).thenCompose(t -> {
            if (t.getUnregistered()) {
                throw new IllegalArgumentException("type " + t.getName() + " (" + t.getId() + ") is unregistered; "
                        + "register its bundle again to run it");
            }
            TypeRecord next = t.toBuilder().setDesired(count).build();
            return records.put(ComponentKeys.type(t.getId()), next).thenApply(x -> {
                poke();
                return next;
            });
        });
    }

    /**
     * Adds {@code count} instances (1 or more) to a type's desired count, which stays at most {@link #MAX_COUNT};
     * completes with the updated type.
     */
    public CompletionStage<TypeRecord> create(String typeIdOrName, int count) {
        if (count < 1 || count > MAX_COUNT) {
            return CompletableFuture.failedFuture(badCount(1, count));
        }
        return type(typeIdOrName).thenCompose(t -> {
            if (t.getDesired() + count > MAX_COUNT) {
                throw new IllegalArgumentException("type " + t.getName() + " wants " + t.getDesired() + " instances; "
                        + count + " more would be " + (t.getDesired() + count) + ", more than " + MAX_COUNT);
            }
            return scale(t.getId(), t.getDesired() + count);
        });
    }

    /** Unregisters a type: its instances are terminated; the record stays, marked unregistered. */
    public CompletionStage<TypeRecord> unregister(String typeIdOrName) {
        return type(typeIdOrName).thenCompose(t -> {
            TypeRecord next = t.toBuilder().setUnregistered(true).setDesired(0).build();
            return records.put(ComponentKeys.type(t.getId()), next).thenApply(x -> {
                poke();
                return next;
            });
        });
    }

    /** The type with this id, or the one registered type with this name. */
    public CompletionStage<TypeRecord> type(String idOrName) {
        if (isTypeId(idOrName)) {
            return records.get(ComponentKeys.type(idOrName.toLowerCase(java.util.Locale.ROOT)), TypeRecord.parser())
                    .thenApply(t -> t.orElseThrow(() -> new NoSuchElementException("no component type " + idOrName)));
        }
        return typeRecords().thenApply(all -> {
            List<TypeRecord> named = all.stream()
                    .filter(t -> t.getName().equals(idOrName) && !t.getUnregistered()).toList();
            if (named.isEmpty()) {
                throw new NoSuchElementException("no component type is named " + idOrName);
            }
            if (named.size() > 1) {
                throw new IllegalArgumentException("several types are named " + idOrName + ": "
                        + named.stream().map(t -> t.getId() + " (" + t.getVersion() + ")").toList() + "; give an id");
            }
            return named.get(0);
        });
    }

    /** True when the text is a type id (a bundle name may have 40 characters too, but not an id's form). */
    static boolean isTypeId(String text) {
        if (text.length() != Id.TEXT_LENGTH) {
            return false;
        }
        try {
            return Id.parse(text).category() == Category.TYPE;
        } catch (IllegalArgumentException notAnId) {
            return false;
        }
    }

    /** Every type ever registered (unregistered ones included, marked), with instance counts. */
    public CompletionStage<List<TypeView>> types() {
        return typeRecords().thenCompose(types -> all(types.stream()
                .map(t -> instancesOf(t.getId()).thenApply(list -> new TypeView(t,
                        (int) list.stream().filter(InstanceView::live).count(),
                        (int) list.stream().filter(i -> i.live() && i.state() == InstanceState.AVAILABLE).count())))
                .toList()));
    }

    /** Every type ever registered, sorted by name then id; its records only (no instance is read). */
    public CompletionStage<List<TypeRecord>> typeRecords() {
        return records.members(ComponentKeys.TYPE_INDEX).thenCompose(ids -> all(ids.stream()
                .map(id -> records.get(ComponentKeys.type(id), TypeRecord.parser())).toList()))
                .thenApply(list -> list.stream().flatMap(Optional::stream)
                        .sorted(Comparator.comparing(TypeRecord::getName).thenComparing(TypeRecord::getId))
                        .toList());
    }

    // ---- instances -----------------------------------------------------------------------------

    /** The instances of one type, placed and reported. */
    public CompletionStage<List<InstanceView>> instancesOf(String typeId) {
        return records.members(ComponentKeys.instances(typeId)).thenCompose(ids ->
                all(ids.stream().map(this::instance).toList()))
                .thenApply(list -> list.stream().flatMap(Optional::stream).toList());
    }

    /** Every instance of every type. */
    public CompletionStage<List<InstanceView>> instances() {
        return records.members(ComponentKeys.TYPE_INDEX).thenCompose(ids ->
                all(ids.stream().map(this::instancesOf).toList()))
                .thenApply(lists -> lists.stream().flatMap(List::stream).toList());
    }

    public CompletionStage<Optional<InstanceView>> instance(String id) {
        CompletableFuture<Optional<Placement>> p = records.get(ComponentKeys.placement(id), Placement.parser()).toCompletableFuture();
        CompletableFuture<Optional<InstanceStatus>> s = records.get(ComponentKeys.status(id), InstanceStatus.parser()).toCompletableFuture();
        return p.thenCombine(s, (placement, status) -> placement.map(pl -> new InstanceView(pl, status)));
    }

    /**
     * Terminates an instance (politely; {@code force}: destroys it after no grace). Its type wants one
     * instance fewer, so the scaler does not replace it.
     */
    public CompletionStage<InstanceView> terminate(String id, boolean force) {
        return instance(id).thenCompose(found -> {
            InstanceView view = found.orElseThrow(() -> new NoSuchElementException("no instance " + id));
            Placement next = view.placement().toBuilder()
                    .setGoal(force ? Placement.Goal.DESTROY : Placement.Goal.TERMINATE)
                    .setReason(force ? "destroyed by an operator" : "terminated by an operator")
                    .setByOperator(view.live() || view.placement().getByOperator())
                    .build();
            return records.put(ComponentKeys.placement(id), next).thenApply(x -> {
                placementChanged.accept(next.getNode());
                poke();
                return new InstanceView(next, view.status());
            });
        });
    }

    // ---- nodes ---------------------------------------------------------------------------------

    /** Marks a node drained (no new instances; its instances move away) or not. */
    public CompletionStage<Void> drain(String node, boolean drained, String reason) {
        return records.put(ComponentKeys.drain(node), DrainMark.newBuilder().setDrained(drained).setReason(reason).build())
                .thenRun(this::poke);
    }

    /**
     * Announces a planned stop of a node (it takes no new instances from now on), or withdraws it
     * ({@code stopping} false).
     */
    public CompletionStage<Void> markStopping(String node, boolean stopping, String reason) {
        StopMark mark = StopMark.newBuilder().setAtMillis(stopping ? System.currentTimeMillis() : 0).setReason(reason).build();
        return records.put(ComponentKeys.stopping(node), mark).thenRun(this::poke);
    }

    public CompletionStage<Optional<StopMark>> stopMark(String node) {
        return records.get(ComponentKeys.stopping(node), StopMark.parser());
    }

    /**
     * Whether a stop mark still stands at {@code now}. One older than {@link #STOP_MARK_TTL} is void: a stop
     * takes under a minute, so such a mark was left by a stop that never happened (a crashed `cluster down`),
     * and must not keep a node from taking instances for good.
     */
    static boolean stopsSoon(StopMark mark, long now) {
        return mark.getAtMillis() > 0 && now - mark.getAtMillis() < STOP_MARK_TTL.toMillis();
    }

    static final Duration STOP_MARK_TTL = Duration.ofMinutes(10);

    public CompletionStage<Boolean> drained(String node) {
        return records.get(ComponentKeys.drain(node), DrainMark.parser()).thenApply(d -> d.map(DrainMark::getDrained).orElse(false));
    }

    public CompletionStage<Optional<NodeStatus>> nodeStatus(String node) {
        return records.get(ComponentKeys.node(node), NodeStatus.parser());
    }

    public CompletionStage<Set<String>> placedOn(String node) {
        return records.members(ComponentKeys.placed(node));
    }

    // ---- the scaler ----------------------------------------------------------------------------

    /** Runs the scaler soon (after a change made through this node, or announced by another). */
    public void poke() {
        changed = true;
        timer.execute(this::tick);
    }

    /**
     * How often the scaler reads every type's records when nothing says they changed. A full round every
     * second read ~30 records (90 ring messages) for a type of 10 instances, most of an idle node's CPU; now
     * a round runs at once on {@link #poke} (a write made here or announced by another node), when the ring
     * or a node's availability changes, every second while placements are in flight or a type is held back,
     * and otherwise after this long (a change whose announcement was lost, a stop mark that expired, an ended
     * instance to forget).
     */
    static final long RESYNC_MILLIS = 30_000;
    private volatile boolean changed = true;
    private long lastRoundAt = Long.MIN_VALUE / 2; // by the scaler thread only
    private Object lastView;                        // ring epoch and unavailable and lost nodes at the last round

    private void tick() {
        if (!running.compareAndSet(false, true)) {
            return;
        }
        try {
            Optional<Ring> ring = ringView.current();
            if (ring.isEmpty()) {
                return;
            }
            trackUnavailable(ring.get());
            long now = System.currentTimeMillis();
            List<Object> view = List.of(ring.get().epoch(), members.unavailable(ring.get().nodes()),
                    ring.get().nodes().stream().filter(this::lost).toList());
            boolean inFlight = recentlyPlaced.values().stream().anyMatch(m -> !m.isEmpty()) || !holdUntil.isEmpty();
            if (!changed && !inFlight && view.equals(lastView) && now - lastRoundAt < RESYNC_MILLIS) {
                return; // nothing this round could act on has changed
            }
            changed = false;
            lastView = view;
            lastRoundAt = now;
            Set<String> typeIds = records.members(ComponentKeys.TYPE_INDEX).toCompletableFuture().get(10, TimeUnit.SECONDS);
            NodeMarks marks = null; // read once per round, and only when this node decides for a type
            for (String typeId : typeIds) {
                if (controls(ring.get(), typeId)) {
                    try {
                        if (marks == null) {
                            marks = nodeMarks(ring.get());
                        }
                        reconcile(ring.get(), typeId, marks);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return; // closing
                    } catch (Exception e) {
                        LOG.warn("Scaler: type {}: {}", typeId, rootMessage(e));
                    }
                }
            }
        } catch (Exception e) {
            changed = true; // try again next round
            LOG.debug("Scaler round skipped: {}", rootMessage(e));
        } finally {
            running.set(false);
        }
    }

    /** This node decides for a type when it is the first available node of the type's preference list. */
    private boolean controls(Ring ring, String typeId) {
        var pref = ring.preferenceList(Id.parse(typeId)).withFallbacks(members.unavailable(ring.nodes())).replicas();
        return !pref.isEmpty() && pref.get(0).node().equals(self);
    }

    private void trackUnavailable(Ring ring) {
        long now = System.currentTimeMillis();
        for (String node : ring.nodes()) {
            if (members.available(node)) {
                unavailableSince.remove(node);
            } else {
                unavailableSince.putIfAbsent(node, now);
            }
        }
        unavailableSince.keySet().retainAll(ring.nodes());
    }

    /** A node is lost for placement purposes once it has been unavailable for {@code lostAfter}, or left. */
    private boolean lost(String node) {
        if (members.available(node)) {
            return false;
        }
        if (members.get(node).isEmpty()) {
            return true;
        }
        Long since = unavailableSince.get(node);
        return since != null && System.currentTimeMillis() - since >= lostAfter.toMillis();
    }

    /**
     * What the scaler must know of the nodes besides their status: which an operator drained (their instances
     * move away) and which are about to stop (planned; their instances stay until they stop). Neither takes
     * new instances.
     */
    record NodeMarks(Set<String> drained, Set<String> stopping) {
        boolean drained(String node) {
            return drained.contains(node);
        }

        boolean takesNew(String node) {
            return !drained.contains(node) && !stopping.contains(node);
        }
    }

    /** The drain and stop marks of the ring's nodes. */
    private NodeMarks nodeMarks(Ring ring) throws Exception {
        Set<String> drained = new java.util.HashSet<>();
        Set<String> stopping = new java.util.HashSet<>();
        long now = System.currentTimeMillis();
        for (String node : ring.nodes()) {
            if (await(drained(node))) {
                drained.add(node);
            }
            if (await(stopMark(node)).filter(m -> stopsSoon(m, now)).isPresent()) {
                stopping.add(node);
            }
        }
        return new NodeMarks(drained, stopping);
    }

    private void reconcile(Ring ring, String typeId, NodeMarks marks) throws Exception {
        Optional<TypeRecord> found = records.get(ComponentKeys.type(typeId), TypeRecord.parser()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        if (found.isEmpty()) {
            return;
        }
        TypeRecord type = found.get();
        List<InstanceView> instances = instancesOf(typeId).toCompletableFuture().get(10, TimeUnit.SECONDS);
        long now = System.currentTimeMillis();
        List<InstanceView> live = new ArrayList<>();
        for (InstanceView i : instances) {
            String node = i.placement().getNode();
            if (i.live() && lost(node)) {
                String reason = "node " + node + " lost";
                LOG.info("Instance {} of {} is lost with its node {}; replacing it", i.id(), type.getName(), node);
                // The goal first: whoever sees it failed also sees that its node must destroy it.
                await(records.put(ComponentKeys.placement(i.id()), i.placement().toBuilder()
                        .setGoal(Placement.Goal.DESTROY).setReason(reason).build()));
                await(records.put(ComponentKeys.status(i.id()), failed(i, reason)));
            } else if (i.live()) {
                live.add(i);
            } else if (i.state().ended() && i.status().map(s -> now - s.getSinceMillis() > FORGET_AFTER_MILLIS).orElse(false)) {
                await(records.remove(ComponentKeys.instances(typeId), i.id()));
                await(records.remove(ComponentKeys.placed(node), i.id()));
            }
        }
        // Instances an operator ended: the type wants one fewer each. Counted here, by the one node that
        // decides for the type, in the same round that compares live instances with the desired count.
        List<InstanceView> endedByOperator = instances.stream()
                .filter(i -> i.placement().getByOperator() && !i.placement().getAccounted()).toList();
        if (!endedByOperator.isEmpty()) {
            type = type.toBuilder().setDesired(Math.max(0, type.getDesired() - endedByOperator.size())).build();
            await(records.put(ComponentKeys.type(typeId), type));
            for (InstanceView i : endedByOperator) {
                await(records.put(ComponentKeys.placement(i.id()), i.placement().toBuilder().setAccounted(true).build()));
            }
        }
        int desired = type.getUnregistered() ? 0 : type.getDesired();
        // Instances on drained nodes do not count: replacements start elsewhere, then they are terminated.
        List<InstanceView> counted = live.stream().filter(i -> !marks.drained(i.placement().getNode())).toList();
        int unseen = unseenPlacements(typeId, instances, now);
        if (counted.size() + unseen < desired && !crashLooping(type, instances, now)) {
            LOG.info("Type {} wants {}: {} live and counted {}, {} placed lately and not read back; placing {}",
                    type.getName(), desired, counted.size(), counted.stream().limit(20).map(i -> i.id().substring(0, 8) + "=" + i.state().text()).toList(),
                    unseen, desired - counted.size() - unseen);
            place(ring, type, counted, desired - counted.size() - unseen, marks);
        }
        long availableCounted = counted.stream().filter(i -> i.state() == InstanceState.AVAILABLE).count();
        for (InstanceView i : live) {
            if (marks.drained(i.placement().getNode()) && (availableCounted >= desired || desired == 0)) {
                terminate(i, "its node " + i.placement().getNode() + " is drained");
            }
        }
        if (counted.size() > desired) {
            // Newest first: they have done the least work.
            List<InstanceView> extra = counted.stream()
                    .sorted(Comparator.comparingLong((InstanceView i) -> i.placement().getCreatedAtMillis()).reversed())
                    .limit(counted.size() - desired).toList();
            for (InstanceView i : extra) {
                terminate(i, type.getUnregistered() ? "its type was unregistered" : "scaled down to " + desired);
            }
        }
    }

    /** How many instances this node placed for the type lately that the ring's answer did not show yet. */
    private int unseenPlacements(String typeId, List<InstanceView> instances, long now) {
        Map<String, Long> recent = recentlyPlaced.get(typeId);
        if (recent == null) {
            return 0;
        }
        Set<String> read = new java.util.HashSet<>();
        instances.forEach(i -> read.add(i.id()));
        recent.entrySet().removeIf(e -> read.contains(e.getKey()) || now - e.getValue() > RECENT_MILLIS);
        if (!recent.isEmpty()) {
            LOG.info("Instances {} of type {} placed lately are not in the ring's answer yet; counting them", recent.keySet(), typeId);
        }
        return recent.size();
    }

    /**
     * True while a type's instances keep failing on their own (not with a lost node): new instances wait, for
     * a time doubling with each failure beyond the limit (at most five minutes), instead of failing again at
     * once, every round.
     */
    private boolean crashLooping(TypeRecord type, List<InstanceView> instances, long now) {
        long recent = instances.stream().filter(i -> i.state() == InstanceState.FAILED && i.status().isPresent()
                && now - i.status().get().getSinceMillis() < CRASH_WINDOW_MILLIS
                && !i.status().get().getReason().contains(" lost")).count();
        if (recent < CRASH_LIMIT) {
            holdUntil.remove(type.getId());
            return false;
        }
        Long until = holdUntil.get(type.getId());
        if (until == null) {
            long hold = Math.min(300_000, 5_000L << Math.min(6, recent - CRASH_LIMIT));
            holdUntil.put(type.getId(), now + hold);
            LOG.warn("Instances of {} keep failing ({} in the last minute); the next starts in {} s", type.getName(), recent,
                    hold / 1000);
            return true;
        }
        if (now < until) {
            return true;
        }
        holdUntil.remove(type.getId());
        return false;
    }

    private void terminate(InstanceView i, String reason) throws Exception {
        LOG.info("Terminating instance {} on {}: {}", i.id(), i.placement().getNode(), reason);
        await(records.put(ComponentKeys.placement(i.id()), i.placement().toBuilder()
                .setGoal(Placement.Goal.TERMINATE).setReason(reason).build()));
        placementChanged.accept(i.placement().getNode());
    }

    private void place(Ring ring, TypeRecord type, List<InstanceView> live, int count, NodeMarks marks) throws Exception {
        BundleMeta meta = bundles.meta(type.getBundle()).toCompletableFuture().get(10, TimeUnit.SECONDS)
                .orElseThrow(() -> new BundleException("bundle " + type.getBundle() + " of type " + type.getName() + " is not stored"));
        Manifest manifest = BundleRepository.manifest(meta);
        Map<String, Integer> ofType = new HashMap<>();
        live.forEach(i -> ofType.merge(i.placement().getNode(), 1, Integer::sum));
        Map<String, Integer> liveOn = new HashMap<>();
        for (InstanceView i : instances().toCompletableFuture().get(10, TimeUnit.SECONDS)) {
            if (i.live()) {
                liveOn.merge(i.placement().getNode(), 1, Integer::sum);
            }
        }
        List<Scheduler.Candidate> candidates = new ArrayList<>();
        for (String node : members.availableNames()) {
            Optional<NodeStatus> status = nodeStatus(node).toCompletableFuture().get(10, TimeUnit.SECONDS);
            int placed = liveOn.getOrDefault(node, 0);
            boolean accepts = status.map(s -> s.getState().equals("available")).orElse(false)
                    && marks.takesNew(node);
            candidates.add(new Scheduler.Candidate(node, accepts, status.map(NodeStatus::getMemAvailableBytes).orElse(0L),
                    status.map(NodeStatus::getCpus).orElse(0), status.map(NodeStatus::getLoad1).orElse(0.0),
                    placed, ofType.getOrDefault(node, 0)));
        }
        Scheduler scheduler = new Scheduler(candidates);
        TypeCluster cluster = TypeCluster.of(Id.parse(type.getId()), ring.bits(), TypeCluster.DEFAULT_FRACTION_BITS);
        for (int n = 0; n < count; n++) {
            Optional<String> node = scheduler.place(manifest.resources().memoryBytes());
            if (node.isEmpty()) {
                LOG.warn("Cannot place an instance of {}: {}", type.getName(), scheduler.whyNot(manifest.resources().memoryBytes()));
                return;
            }
            String id = cluster.newId(Category.INSTANCE, RANDOM).toString();
            long now = System.currentTimeMillis();
            Placement placement = Placement.newBuilder().setId(id).setType(type.getId()).setNode(node.get())
                    .setCreatedAtMillis(now).setGoal(Placement.Goal.RUN).setReason("placed by " + self).build();
            InstanceStatus status = InstanceStatus.newBuilder().setState(InstanceState.PREPARING.text()).setSinceMillis(now)
                    .setNode(node.get()).setReason("placed on " + node.get())
                    .addHistory(StatusChange.newBuilder().setState(InstanceState.PREPARING.text()).setAtMillis(now)
                            .setReason("placed on " + node.get()))
                    .build();
            // The node's agent finds the instance through placed/<node>, so that is written last; the rest at once.
            await(CompletableFuture.allOf(records.put(ComponentKeys.status(id), status).toCompletableFuture(),
                    records.put(ComponentKeys.placement(id), placement).toCompletableFuture(),
                    records.add(ComponentKeys.instances(type.getId()), id).toCompletableFuture()));
            await(records.add(ComponentKeys.placed(node.get()), id));
            recentlyPlaced.computeIfAbsent(type.getId(), t -> new ConcurrentHashMap<>()).put(id, now);
            LOG.info("Placed instance {} of {} on {}", id, type.getName(), node.get());
            placementChanged.accept(node.get());
        }
    }

    private static InstanceStatus failed(InstanceView i, String reason) {
        long now = System.currentTimeMillis();
        InstanceStatus.Builder b = i.status().map(InstanceStatus::toBuilder).orElse(InstanceStatus.newBuilder()
                .setNode(i.placement().getNode()));
        return b.setState(InstanceState.FAILED.text()).setSinceMillis(now).setReason(reason)
                .addHistory(StatusChange.newBuilder().setState(InstanceState.FAILED.text()).setAtMillis(now).setReason(reason))
                .build();
    }

    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static <T> CompletionStage<List<T>> all(List<? extends CompletionStage<T>> stages) {
        List<CompletableFuture<T>> fs = stages.stream().map(CompletionStage::toCompletableFuture).toList();
        return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new))
                .thenApply(x -> fs.stream().map(CompletableFuture::join).toList());
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
