package io.smalti.component.instances;

import io.smalti.bundle.Manifest;
import io.smalti.component.bundles.BundleRepository;
import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.container.ContainerDriver;
import io.smalti.container.ContainerSpec;
import io.smalti.container.ContainerState;
import io.smalti.container.RunningContainer;
import io.smalti.container.Usage;
import io.smalti.protocol.component.BundleMeta;
import io.smalti.protocol.component.InstanceStatus;
import io.smalti.protocol.component.Placement;
import io.smalti.protocol.component.StatusChange;
import io.smalti.protocol.component.TypeRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * The component controller's presence on one node: runs the instances placed on this node through the
 * container driver and reports their life-cycle. It follows the node's {@code placed/<node>} set and each
 * placement's goal: starts what should run (fetching the bundle into the local cache), stops and destroys
 * what should not, marks an instance available once its harness is connected to this node's hub (and while
 * its health check, if its bundle has one, passes), failed when its container ends or its health check fails
 * three times in a row, and destroys containers nobody placed here (left by an earlier run). Thread-safe;
 * driver calls run on a worker pool, the follow loop on its own thread.
 */
public final class InstanceAgent implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(InstanceAgent.class);
    private static final int HISTORY = 20;
    private static final long USAGE_EVERY_MILLIS = 5_000;
    /**
     * A usage sample is recorded (a quorum write, journaled by every replica) only when its memory moved by 5 %
     * (at least this much) or its CPU time by this much, or the last record is older than
     * {@link #USAGE_RECORD_AT_LEAST_MILLIS}: recording every 5 s sample made 10 idle instances cost their
     * cluster 2 writes a second for figures that did not change.
     */
    private static final long USAGE_MEMORY_STEP = 1 << 20;
    private static final long USAGE_CPU_STEP_NANOS = 1_000_000_000L;
    private static final long USAGE_RECORD_AT_LEAST_MILLIS = 60_000;

    /**
     * How the harness of an instance reaches this node's hub: the address, the CA certificate it trusts, and the
     * node's certificate manager, which makes each instance's one-time token and revokes its certificates when the
     * instance is destroyed.
     */
    public record HubAccess(String host, int port, String certificatePem, Enrolment enrolment) {}

    /** Certificates of instances, as the node's credentials service keeps them. Thread-safe; calls may block briefly. */
    public interface Enrolment {
        /** A one-time token the harness of {@code instance} redeems for its certificate. */
        String token(String instance);

        /** Revokes every certificate of {@code instance}: a destroyed instance's harness cannot speak again. */
        void revoke(String instance);
    }

    /**
     * Where an instance's endpoints are made known to other components: the hub's attributes of the instance
     * ({@code endpoint.<name>} = {@code host:port}). Called from the agent's threads; must not block long.
     */
    public interface Endpoints {
        /** Records the endpoints (name to {@code host:port}); an empty map after the instance ended removes {@code names}. */
        void publish(String instance, java.util.Map<String, String> endpoints, java.util.Set<String> names);

        Endpoints NONE = (instance, endpoints, names) -> { };
    }

    /**
     * Calls an instance's health operation (its bundle's {@code health.call}) through this node's hub. Called
     * from the agent's threads; must not block.
     */
    public interface HealthProbe {
        /** Completes empty when the instance answered without error within {@code timeout}, else with why not. */
        CompletionStage<Optional<String>> check(String instance, String operation, Duration timeout);

        HealthProbe NONE = (instance, operation, timeout) -> CompletableFuture.completedFuture(Optional.empty());
    }

    /** Failed health checks in a row after which an instance fails (and the scaler replaces it). */
    static final int HEALTH_FAILURES_TO_FAIL = 3;

    private final String self;
    private final ComponentRecords records;
    private final BundleRepository bundles;
    private final ContainerDriver driver;
    private final HubAccess hub;
    private final Predicate<String> connected;
    private final Endpoints endpoints;
    private final HealthProbe probe;
    private final Duration grace;
    private final ScheduledExecutorService loop;
    private final ExecutorService workers;
    private final Map<String, Local> locals = new ConcurrentHashMap<>();
    private final List<BiConsumer<String, String>> destroyedListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean rounding = new AtomicBoolean();
    private volatile boolean reread;
    /**
     * How long the node's placed set and a running instance's placement are taken as read, unless
     * {@link #refresh} says one changed (this node's controller wrote it, or another node's write was
     * announced). Reading every placement every round cost a node with 50 instances 200 ring reads a second;
     * reading the placed set every 250 ms round and each placement every second still made an idle node
     * with 10 instances send ~20 ring messages a second (12 % of a core per node with the scaler's reads).
     * Only a change whose announcement was lost waits this long (Distributed Data's gossip repeats it within
     * seconds anyway).
     */
    static final long PLACEMENT_TTL_MILLIS = 30_000;
    private Set<String> placedAsRead = Set.of(); // by the loop thread only
    private long placedReadAt = Long.MIN_VALUE / 2;
    /** How long a container must keep reading as not running before its instance fails. */
    private static final long RECHECK_MILLIS = 200;

    /** What this node knows of one of its instances. Guarded by itself. */
    private static final class Local {
        final String id;
        InstanceStatus status;
        boolean busy;          // a driver call is running
        boolean started;       // the container was started (or adopted)
        long usageAt;
        long usageRecordedAt;
        Map<String, String> endpoints = Map.of(); // name -> host:port, published while available
        long notRunningSince;  // when its container first read as not running (0: it runs)
        Placement placement;   // as last read, and when
        long placementReadAt;
        Manifest.Health health; // its bundle's health check, if it has one (known once started or adopted)
        long nextHealthAt;      // when to check next (0: not yet scheduled)
        boolean checking;       // a health check is in flight
        int healthFailures;     // failed checks in a row
        String unhealthy;       // why the last check failed; null while it passes

        Local(String id, InstanceStatus status) {
            this.id = id;
            this.status = status;
        }

        /** The placement as last read while it is fresh enough and the instance runs; else null (read it). */
        synchronized Placement cachedPlacement(long now) {
            return placement != null && started && !busy && now - placementReadAt < PLACEMENT_TTL_MILLIS
                    && placement.getGoal() == Placement.Goal.RUN ? placement : null;
        }
    }

    /**
     * @param connected whether a component id has a session on this node's hub
     */
    public InstanceAgent(String self, ComponentRecords records, BundleRepository bundles, ContainerDriver driver,
                         HubAccess hub, Predicate<String> connected, Duration grace, Duration interval) {
        this(self, records, bundles, driver, hub, connected, Endpoints.NONE, HealthProbe.NONE, grace, interval);
    }

    /**
     * @param endpoints where an available instance's endpoints are published (and removed when it ends)
     * @param probe how the health checks of instances whose bundle has one are made
     */
    public InstanceAgent(String self, ComponentRecords records, BundleRepository bundles, ContainerDriver driver,
                         HubAccess hub, Predicate<String> connected, Endpoints endpoints, HealthProbe probe,
                         Duration grace, Duration interval) {
        this.endpoints = endpoints;
        this.probe = probe;
        this.self = self;
        this.records = records;
        this.bundles = bundles;
        this.driver = driver;
        this.hub = hub;
        this.connected = connected;
        this.grace = grace;
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "instance-agent"));
        this.workers = Executors.newFixedThreadPool(4, r -> daemon(r, "instance-driver"));
        loop.scheduleWithFixedDelay(this::round, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        records.onWritten(key -> {
            if (ComponentKeys.placing(key)) {
                refresh(); // a placement written through this node
            }
        });
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Revokes a destroyed instance's certificates; a failure is logged (they expire within their short life). */
    private void revoke(String id) {
        try {
            hub.enrolment().revoke(id);
        } catch (RuntimeException e) {
            LOG.warn("Cannot revoke the certificates of destroyed instance {}: {}", id, e.getMessage());
        }
    }

    /**
     * The name of the type of {@code instance}, when this node runs it (for the vault's type rules). May block
     * briefly on a ring read; callable from any thread.
     */
    public java.util.Optional<String> typeName(String instance) {
        Local local = locals.get(instance);
        Placement p = local == null ? null : local.placement;
        if (p == null) {
            return java.util.Optional.empty();
        }
        try {
            return records.get(ComponentKeys.type(p.getType()), TypeRecord.parser()).toCompletableFuture()
                    .get(5, TimeUnit.SECONDS).map(TypeRecord::getName);
        } catch (Exception e) {
            return java.util.Optional.empty();
        }
    }

    public ContainerDriver driver() {
        return driver;
    }

    /**
     * Calls {@code listener} with an instance id and why each time this agent destroys an instance's
     * container (the hub ends its session at once: a vanished container's connection may not report itself
     * closed for minutes). Listeners run on the agent's threads and must not block.
     */
    public void onDestroyed(BiConsumer<String, String> listener) {
        destroyedListeners.add(listener);
    }

    private void destroyContainer(String id, String why) {
        driver.destroy(id);
        revoke(id);
        for (var l : destroyedListeners) {
            try {
                l.accept(id, why);
            } catch (RuntimeException e) {
                LOG.warn("A listener failed for the destroyed instance {}: {}", id, e.toString());
            }
        }
    }

    /** Follows the placements now rather than at the next interval. */
    public void poke() {
        loop.execute(this::round);
    }

    /** Like {@link #poke}, and reads every placement again (one was changed through this node). */
    public void refresh() {
        reread = true;
        poke();
    }

    /** Live usage of an instance running here, if any. */
    public Optional<Usage> usage(String id) {
        return locals.containsKey(id) ? driver.usage(id) : Optional.empty();
    }

    private void round() {
        if (!rounding.compareAndSet(false, true)) {
            return;
        }
        try {
            long started = System.currentTimeMillis();
            boolean fresh = reread || started - placedReadAt >= PLACEMENT_TTL_MILLIS;
            reread = false;
            if (fresh) {
                placedAsRead = records.members(ComponentKeys.placed(self)).toCompletableFuture().get(10, TimeUnit.SECONDS);
                placedReadAt = started;
            }
            Set<String> placed = placedAsRead;
            Set<String> wanted = new HashSet<>();
            for (String id : placed) {
                Local known = locals.get(id);
                if (known != null && InstanceState.of(known.status.getState()) == InstanceState.DESTROYED) {
                    wanted.add(id); // done with: no need to read it again until it is forgotten
                    continue;
                }
                long now = System.currentTimeMillis();
                Placement p = known == null || fresh ? null : known.cachedPlacement(now);
                if (p == null) {
                    Optional<Placement> read = records.get(ComponentKeys.placement(id), Placement.parser())
                            .toCompletableFuture().get(10, TimeUnit.SECONDS);
                    if (read.isEmpty() || !read.get().getNode().equals(self)) {
                        continue;
                    }
                    p = read.get();
                }
                wanted.add(id);
                follow(p);
                Local l = locals.get(id);
                if (l != null && l.placement != p) {
                    synchronized (l) {
                        l.placement = p;
                        l.placementReadAt = now;
                    }
                }
            }
            locals.keySet().removeIf(id -> !placed.contains(id) && !locals.get(id).busy
                    && InstanceState.of(locals.get(id).status.getState()).ended());
            // Containers nobody placed here: left by an earlier run of this agent, or placed and forgotten.
            for (String id : driver.list()) {
                if (!wanted.contains(id) && !locals.containsKey(id)) {
                    LOG.info("Destroying container of instance {}: it is not placed on this node", id);
                    workers.execute(() -> destroyContainer(id, "its instance is not placed on node " + self));
                }
            }
        } catch (Exception e) {
            reread = true; // read again next round
            LOG.debug("Instance round skipped: {}", ComponentController.rootMessage(e));
        } finally {
            rounding.set(false);
        }
    }

    private void follow(Placement p) throws Exception {
        String id = p.getId();
        Local local = locals.get(id);
        if (local == null) {
            InstanceStatus status = records.get(ComponentKeys.status(id), InstanceStatus.parser()).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).orElse(InstanceStatus.newBuilder().setState(InstanceState.PREPARING.text())
                            .setNode(self).build());
            InstanceState state = InstanceState.of(status.getState());
            if (state == InstanceState.DESTROYED) {
                return; // done with, waiting to be forgotten
            }
            local = new Local(id, status);
            locals.put(id, local);
            if (state.live() && driver.state(id) == ContainerState.RUNNING) {
                local.started = true; // survived a restart of this agent: adopt it
                try {
                    local.health = BundleRepository.manifest(typeAndBundle(p.getType()).meta()).health().orElse(null);
                } catch (Exception e) {
                    LOG.warn("Instance {}: cannot read its manifest, so its health is not checked: {}", id,
                            ComponentController.rootMessage(e));
                }
                LOG.info("Adopting running instance {}", id);
            } else if (state.live() && state != InstanceState.PREPARING && p.getGoal() == Placement.Goal.RUN) {
                // It had started under an earlier run of this agent and its container is gone (the node
                // stopped, or the machine restarted): it failed; the controller starts a replacement.
                local.busy = true;
                Local l = local;
                workers.execute(() -> {
                    destroyContainer(id, "its container was gone when node " + self + " started again");
                    report(l, InstanceState.FAILED, "its container was gone when node " + self + " started again");
                    done(l);
                });
                return;
            }
        }
        synchronized (local) {
            if (local.busy) {
                return;
            }
            InstanceState state = InstanceState.of(local.status.getState());
            if (p.getGoal() != Placement.Goal.RUN) {
                if (state != InstanceState.DESTROYED) {
                    local.busy = true;
                    Local l = local;
                    workers.execute(() -> stop(l, p));
                }
                return;
            }
            if (state.ended()) {
                return; // the controller replaces it
            }
            if (!local.started) {
                local.busy = true;
                Local l = local;
                workers.execute(() -> start(l, p));
                return;
            }
            ContainerState container = driver.state(id);
            if (container == ContainerState.RUNNING) {
                local.notRunningSince = 0;
            } else if (local.notRunningSince == 0 || System.currentTimeMillis() - local.notRunningSince < RECHECK_MILLIS) {
                // Seen twice, RECHECK_MILLIS apart, before it counts: a healthy container once read as stopped for
                // a moment on a loaded node, and was destroyed for it.
                if (local.notRunningSince == 0) {
                    local.notRunningSince = System.currentTimeMillis();
                    LOG.info("Instance {}: its container reads as {}; checking again", id, container.name().toLowerCase());
                }
                return;
            } else {
                local.busy = true;
                Local l = local;
                workers.execute(() -> {
                    LOG.warn("Instance {} failed: its container ended ({})", id, container.name().toLowerCase());
                    // Cleaned up before it is reported: a failed instance has nothing left on the node.
                    destroyContainer(id, "its container ended");
                    report(l, InstanceState.FAILED, "its container ended (" + container.name().toLowerCase() + ")");
                    done(l);
                });
                return;
            }
            boolean connectedNow = connected.test(id);
            if (connectedNow) {
                checkHealth(local);
            } else {
                local.nextHealthAt = 0; // checked again from an interval after it reconnects
            }
            boolean up = connectedNow && local.unhealthy == null;
            if (up && state != InstanceState.AVAILABLE) {
                if (state == InstanceState.INITIALIZING) {
                    LOG.info("Instance {} available {} ms after it was placed", id,
                            System.currentTimeMillis() - p.getCreatedAtMillis());
                }
                report(local, InstanceState.AVAILABLE, "its harness is connected to the hub on " + self);
                workers.execute(() -> driver.started(id)); // its start-up CPU allowance is over
                if (!local.endpoints.isEmpty()) {
                    endpoints.publish(id, local.endpoints, local.endpoints.keySet());
                }
            } else if (!up && state == InstanceState.AVAILABLE) {
                report(local, InstanceState.UNAVAILABLE, connectedNow ? local.unhealthy : "its harness is not connected to the hub");
            } else if (System.currentTimeMillis() - local.usageAt > USAGE_EVERY_MILLIS) {
                local.usageAt = System.currentTimeMillis();
                Optional<Usage> usage = driver.usage(id);
                if (usage.isPresent() && (local.usageAt - local.usageRecordedAt >= USAGE_RECORD_AT_LEAST_MILLIS
                        || !local.status.getHasUsage()
                        || Math.abs(usage.get().memoryBytes() - local.status.getMemoryBytes())
                                >= Math.max(USAGE_MEMORY_STEP, local.status.getMemoryBytes() / 20)
                        || usage.get().cpuNanos() - local.status.getCpuNanos() >= USAGE_CPU_STEP_NANOS)) {
                    local.usageRecordedAt = local.usageAt;
                    local.status = local.status.toBuilder().setHasUsage(true).setMemoryBytes(usage.get().memoryBytes())
                            .setCpuNanos(usage.get().cpuNanos()).build();
                    records.putMetrics(ComponentKeys.status(id), local.status); // no other node acts on usage
                }
            }
        }
    }

    /**
     * Starts the instance's health check when one is due (caller holds {@code local}). The first is made an
     * interval after its harness connects; a failure makes it unavailable, {@link #HEALTH_FAILURES_TO_FAIL}
     * in a row make it fail (its container is destroyed and the scaler replaces it), a pass makes it
     * available again.
     */
    private void checkHealth(Local local) {
        Manifest.Health h = local.health;
        long now = System.currentTimeMillis();
        if (h == null || local.checking) {
            return;
        }
        if (local.nextHealthAt == 0) {
            local.nextHealthAt = now + h.intervalSeconds() * 1000L;
            return;
        }
        if (now < local.nextHealthAt) {
            return;
        }
        local.checking = true;
        String id = local.id;
        probe.check(id, h.call(), Duration.ofSeconds(h.timeoutSeconds()))
                .exceptionally(e -> Optional.of(ComponentController.rootMessage(e)))
                .thenAccept(problem -> workers.execute(() -> healthChecked(local, h, problem)));
    }

    private void healthChecked(Local local, Manifest.Health h, Optional<String> problem) {
        boolean fail;
        String why;
        synchronized (local) {
            local.checking = false;
            local.nextHealthAt = System.currentTimeMillis() + h.intervalSeconds() * 1000L;
            if (problem.isEmpty()) {
                if (local.unhealthy != null) {
                    LOG.info("Instance {}: its health check '{}' passes again", local.id, h.call());
                }
                local.healthFailures = 0;
                local.unhealthy = null;
                poke();
                return;
            }
            local.healthFailures++;
            why = "its health check '" + h.call() + "' failed (" + local.healthFailures + " in a row): " + problem.get();
            local.unhealthy = why;
            fail = local.healthFailures >= HEALTH_FAILURES_TO_FAIL && !local.busy && local.started;
            if (fail) {
                local.busy = true;
            }
        }
        LOG.warn("Instance {}: {}", local.id, why);
        if (!fail) {
            poke();
            return;
        }
        // Cleaned up before it is reported, like a container that ended: a failed instance leaves nothing.
        destroyContainer(local.id, "its instance failed its health checks");
        if (!local.endpoints.isEmpty()) {
            endpoints.publish(local.id, Map.of(), local.endpoints.keySet());
        }
        report(local, InstanceState.FAILED, why);
        done(local);
    }

    private record TypeAndBundle(TypeRecord type, BundleMeta meta) {}

    /** A registered type and its bundle's metadata, read from the ring. */
    private TypeAndBundle typeAndBundle(String typeId) throws Exception {
        TypeRecord type = records.get(ComponentKeys.type(typeId), TypeRecord.parser()).toCompletableFuture()
                .get(10, TimeUnit.SECONDS).orElseThrow(() -> new IllegalStateException("its type " + typeId + " is not registered"));
        BundleMeta meta = bundles.meta(type.getBundle()).toCompletableFuture().get(10, TimeUnit.SECONDS)
                .orElseThrow(() -> new IllegalStateException("its bundle " + type.getBundle() + " is not stored"));
        return new TypeAndBundle(type, meta);
    }

    private void start(Local local, Placement p) {
        String id = p.getId();
        try {
            report(local, InstanceState.INITIALIZING, "fetching its bundle and starting its container");
            TypeAndBundle tb = typeAndBundle(p.getType());
            TypeRecord type = tb.type();
            Path root = fetch(type.getBundle());
            Manifest manifest = BundleRepository.manifest(tb.meta());
            ContainerSpec spec = new ContainerSpec(id, root, manifest, hub.host(), hub.port(),
                    hub.certificatePem(), hub.enrolment().token(id), Map.of("SMALTI_TYPE", type.getId(), "SMALTI_NODE", self), grace);
            RunningContainer running = driver.start(spec);
            synchronized (local) {
                local.started = true;
                local.health = manifest.health().orElse(null);
                local.status = local.status.toBuilder().setDriver(driver.name())
                        .setAddress(running.address().orElse("")).build();
                String host = running.address().orElse(hub.host());
                Map<String, String> eps = new java.util.TreeMap<>();
                running.endpoints().forEach((name, port) -> eps.put(name, host + ":" + port));
                local.endpoints = Map.copyOf(eps);
            }
            LOG.info("Started instance {} of {} ({} driver, init pid {})", id, type.getName(), driver.name(), running.initPid());
            report(local, InstanceState.INITIALIZING, "its container runs; waiting for its harness to connect");
        } catch (Exception e) {
            String why = ComponentController.rootMessage(e);
            LOG.warn("Instance {} failed to start: {}", id, why);
            try {
                driver.destroy(id);
            } catch (RuntimeException ignored) {
                LOG.debug("Destroy after a failed start of {}: {}", id, ignored.getMessage());
            }
            revoke(id);
            report(local, InstanceState.FAILED, "cannot start: " + why);
        } finally {
            synchronized (local) {
                local.busy = false;
            }
            poke();
        }
    }

    /**
     * The bundle's local copy, fetched if needed; a fetch that fails (a ring read timing out on a busy node)
     * is tried twice more before the instance fails. A refused bundle fails at once.
     */
    private Path fetch(String digest) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return bundles.fetch(digest).toCompletableFuture().get(120, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (attempt == 3 || e.getCause() instanceof io.smalti.bundle.BundleException) {
                    throw e;
                }
                LOG.info("Fetching bundle {} failed ({}); trying again", digest, ComponentController.rootMessage(e));
                Thread.sleep(500L * attempt);
            }
        }
    }

    private void stop(Local local, Placement p) {
        String id = p.getId();
        try {
            boolean force = p.getGoal() == Placement.Goal.DESTROY;
            InstanceState state = InstanceState.of(local.status.getState());
            if (!force && state.live()) {
                report(local, InstanceState.STOPPING, p.getReason());
                driver.stop(id, grace);
            }
            if (!InstanceState.of(local.status.getState()).equals(InstanceState.FAILED)) {
                report(local, InstanceState.DESTROYING, p.getReason());
            }
            destroyContainer(id, "its instance was " + (force ? "destroyed" : "terminated"));
            if (!local.endpoints.isEmpty()) {
                endpoints.publish(id, Map.of(), local.endpoints.keySet());
            }
            report(local, InstanceState.DESTROYED, p.getReason());
            LOG.info("Instance {} destroyed: {}", id, p.getReason());
        } catch (Exception e) {
            LOG.warn("Cannot stop instance {}: {}", id, ComponentController.rootMessage(e));
            synchronized (local) {
                local.busy = false;
            }
            return;
        }
        done(local);
    }

    private void done(Local local) {
        synchronized (local) {
            local.busy = false;
            local.started = false;
        }
    }

    /** Records a state change of an instance (history kept short), best effort. */
    private void report(Local local, InstanceState next, String reason) {
        InstanceStatus status;
        synchronized (local) {
            InstanceState current = InstanceState.of(local.status.getState());
            if (current == next && local.status.getReason().equals(reason)) {
                return;
            }
            if (current != next && !current.canBecome(next)) {
                LOG.debug("Instance {}: ignoring {} -> {}", local.id, current, next);
                return;
            }
            long now = System.currentTimeMillis();
            InstanceStatus.Builder b = local.status.toBuilder().setState(next.text()).setReason(reason).setNode(self);
            if (current != next) {
                b.setSinceMillis(now);
            }
            b.addHistory(StatusChange.newBuilder().setState(next.text()).setAtMillis(now).setReason(reason));
            List<StatusChange> history = b.getHistoryList();
            if (history.size() > HISTORY) {
                List<StatusChange> keep = List.copyOf(history.subList(history.size() - HISTORY, history.size()));
                b.clearHistory().addAllHistory(keep);
            }
            status = b.build();
            local.status = status;
        }
        try {
            records.put(ComponentKeys.status(local.id), status).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Cannot record instance {} as {}: {}", local.id, next.text(), ComponentController.rootMessage(e));
        }
    }

    /**
     * Stops following placements, then lets driver calls under way finish (a start interrupted half-way could
     * leave a container nobody destroys: the node's last sweep lists containers after this returns).
     */
    @Override
    public void close() {
        loop.shutdownNow();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(grace.toMillis() + CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                LOG.warn("Instance agent: driver calls still running after {} ms; interrupting them",
                        grace.toMillis() + CLOSE_WAIT_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
    }

    /** Beyond the stop grace, how long close waits for a start (bundle fetch, container start) to finish. */
    private static final long CLOSE_WAIT_MILLIS = 20_000;
}
