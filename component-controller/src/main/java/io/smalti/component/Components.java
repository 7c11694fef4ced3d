package io.smalti.component;

import io.smalti.bundle.Limits;
import io.smalti.component.bundles.BundleRepository;
import io.smalti.component.instances.ComponentController;
import io.smalti.component.instances.InstanceAgent;
import io.smalti.component.nodes.NodeReporter;
import io.smalti.component.records.ComponentRecords;
import io.smalti.container.ContainerDriver;
import io.smalti.node.controller.NodeLifecycle;
import io.smalti.node.controller.NodeState;
import io.smalti.node.controller.ProcMetrics;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.vnode.VnodeClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The component controller's agents on one node, wired together: the bundle repository, the controller
 * (types, instances, scaler), the instance agent (this node's containers) and the node reporter (this
 * node's state and metrics). Thread-safe.
 */
public final class Components implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Components.class);

    /**
     * @param trustedKeys developer public keys ({@code .pub}) or directories of them
     * @param lostAfter how long a node may be unreachable before its instances are replaced
     * @param grace how long a terminated instance gets before it is killed
     * @param bundleLimits what one bundle may extract to; {@code maxBundleBytes}: the largest archive pushed
     */
    public record Settings(Path dataDir, List<Path> trustedKeys, Duration lostAfter, Duration grace, Duration scalerInterval,
                           Duration agentInterval, Duration reportInterval, Limits bundleLimits, long maxBundleBytes) {}

    private final ComponentRecords records;
    private final BundleRepository bundles;
    private final ComponentController controller;
    private final InstanceAgent agent;
    private final NodeReporter reporter;
    private final NodeLifecycle lifecycle;
    private final ExecutorService blocking;

    private Components(ComponentRecords records, BundleRepository bundles, ComponentController controller, InstanceAgent agent,
                       NodeReporter reporter, NodeLifecycle lifecycle, ExecutorService blocking) {
        this.records = records;
        this.bundles = bundles;
        this.controller = controller;
        this.agent = agent;
        this.reporter = reporter;
        this.lifecycle = lifecycle;
        this.blocking = blocking;
    }

    /**
     * Starts the agents. The node becomes available (takes instances) once they run.
     *
     * @param connected whether a component has a session on this node's hub
     */
    public static Components start(Settings settings, String self, VnodeClient client, RingView ringView, ClusterMembers members,
                                   ContainerDriver driver, InstanceAgent.HubAccess hub, Predicate<String> connected,
                                   InstanceAgent.Endpoints endpoints, InstanceAgent.HealthProbe probe,
                                   NodeLifecycle lifecycle) {
        ExecutorService blocking = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bundle-work");
            t.setDaemon(true);
            return t;
        });
        ComponentRecords records = new ComponentRecords(client);
        BundleRepository bundles = new BundleRepository(records, settings.dataDir().resolve("bundles"), settings.trustedKeys(),
                settings.bundleLimits(), settings.maxBundleBytes(), blocking);
        bundles.removeLeftovers();
        ComponentController controller = new ComponentController(self, records, bundles, ringView, members,
                settings.lostAfter(), settings.scalerInterval(), driver::refusal);
        InstanceAgent agent = new InstanceAgent(self, records, bundles, driver, hub, connected, endpoints, probe,
                settings.grace(), settings.agentInterval());
        controller.onPlacementChanged(node -> {
            if (node.equals(self)) {
                agent.refresh(); // placed or ended here: act now, not at the agent's next round
            }
        });
        ProcMetrics metrics = new ProcMetrics(settings.dataDir());
        NodeReporter[] reporter = new NodeReporter[1];
        java.util.concurrent.atomic.AtomicBoolean stopMarkChecked = new java.util.concurrent.atomic.AtomicBoolean();
        reporter[0] = new NodeReporter(self, records, metrics::sample, () -> {
            if (!stopMarkChecked.get() && withdrawEarlierStopMark(controller, self)) {
                stopMarkChecked.set(true); // once per run: a mark written later is a stop announced for this run
            }
            followDrainMark(controller, self, lifecycle);
            NodeState s = lifecycle.state();
            var history = lifecycle.history();
            String reason = history.isEmpty() ? "" : history.get(history.size() - 1).reason();
            return new NodeReporter.State(s.name().toLowerCase(Locale.ROOT), reason);
        }, driver.name(), settings.reportInterval());
        lifecycle.addListener(t -> {
            LOG.info("Node {}: {} -> {} ({})", self, t.from(), t.to(), t.reason());
            reporter[0].publishNow();
        });
        lifecycle.started();
        return new Components(records, bundles, controller, agent, reporter[0], lifecycle, blocking);
    }

    /** When this process started (a stop mark older than this was for an earlier run). */
    private static final long STARTED_AT = ProcessHandle.current().info().startInstant()
            .map(java.time.Instant::toEpochMilli).orElse(System.currentTimeMillis());

    /**
     * A stop announced before this run started was that stop (or one that never came): this run takes
     * instances again. One announced since (`cluster down` marks every node first) stands. Returns whether
     * the mark could be read (and withdrawn where due).
     */
    private static boolean withdrawEarlierStopMark(ComponentController controller, String self) {
        try {
            var stop = controller.stopMark(self).toCompletableFuture().get(5, TimeUnit.SECONDS);
            if (stop.isPresent() && stop.get().getAtMillis() > 0 && stop.get().getAtMillis() < STARTED_AT) {
                controller.markStopping(self, false, "node " + self + " started again").toCompletableFuture()
                        .get(5, TimeUnit.SECONDS);
            }
            return true;
        } catch (Exception e) {
            LOG.debug("Stop mark of {} not read: {}", self, e.toString());
            return false;
        }
    }

    /** An operator's drain mark (kept in the ring, so it survives restarts) sets the node's own state. */
    private static void followDrainMark(ComponentController controller, String self, NodeLifecycle lifecycle) {
        try {
            boolean drained = controller.drained(self).toCompletableFuture().get(5, TimeUnit.SECONDS);
            if (drained && lifecycle.state() == NodeState.AVAILABLE) {
                lifecycle.markUnavailable("drained by an operator");
            } else if (!drained && lifecycle.state() == NodeState.UNAVAILABLE) {
                lifecycle.markAvailable();
            }
        } catch (Exception e) {
            LOG.debug("Drain mark of {} not read: {}", self, e.toString());
        }
    }

    public ComponentRecords records() {
        return records;
    }

    public BundleRepository bundles() {
        return bundles;
    }

    public ComponentController controller() {
        return controller;
    }

    public InstanceAgent agent() {
        return agent;
    }

    public NodeReporter reporter() {
        return reporter;
    }

    public NodeLifecycle lifecycle() {
        return lifecycle;
    }

    /** Stops the agents; containers keep running (a restarted agent adopts them). */
    @Override
    public void close() {
        reporter.close();
        agent.close();
        controller.close();
        blocking.shutdownNow();
    }
}
