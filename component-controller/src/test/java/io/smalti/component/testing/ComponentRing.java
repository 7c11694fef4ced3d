package io.smalti.component.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.smalti.component.records.ComponentRecords;
import io.smalti.component.records.ComponentService;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.NodeNames;
import io.smalti.ring.cluster.RingManager;
import io.smalti.ring.cluster.RingSettings;
import io.smalti.ring.cluster.RingStore;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.cluster.SmaltiConfig;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.vnode.JournalConfig;
import io.smalti.ring.vnode.VnodeSettings;
import io.smalti.ring.vnode.Vnodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A one-node ring (node {@value #NODE}) running the components service on an H2 journal in a temporary
 * directory: started once for the whole test run (by the first test class that asks for it) and stopped when
 * the run ends. Test classes take it as a parameter ({@code @BeforeAll static void start(ComponentRing ring)})
 * with {@code @ExtendWith(ComponentRing.Extension.class)}; they share it, so they use fresh names and bundles.
 * Modelled on the hub module's {@code OneNodeRing}.
 */
public final class ComponentRing implements AutoCloseable {
    public static final String NODE = "n1";

    private final Path dir;
    private final ActorSystem<Void> system;
    private final Vnodes vnodes;
    private final RingView view;
    private final ClusterMembers members;
    private final ComponentRecords records;

    private ComponentRing(Path dir, ActorSystem<Void> system, Vnodes vnodes, RingView view, ClusterMembers members,
                          ComponentRecords records) {
        this.dir = dir;
        this.system = system;
        this.vnodes = vnodes;
        this.view = view;
        this.members = members;
        this.records = records;
    }

    public ComponentRecords records() {
        return records;
    }

    public Vnodes vnodes() {
        return vnodes;
    }

    public RingView ringView() {
        return view;
    }

    public ClusterMembers members() {
        return members;
    }

    /** A fresh directory under the ring's temporary directory, deleted with it. */
    public Path newDir(String hint) throws IOException {
        return Files.createTempDirectory(dir, hint + "-");
    }

    /** A fresh name: a valid bundle name (a-z, 0-9, '-'). */
    public static String newName(String hint) {
        return hint + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    static ComponentRing start() throws Exception {
        Path dir = Files.createTempDirectory("smalti-components-test");
        Config config = ConfigFactory.parseString("""
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.cluster.roles = ["%s"]
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                pekko.loglevel = WARNING
                smalti.ring.size = 8
                smalti.vnode.request-timeout = 3s
                """.formatted(NodeNames.role(NODE)))
                .withFallback(JournalConfig.h2(dir.resolve("journal"), 2))
                .withFallback(SmaltiConfig.libraryDefaults()).withFallback(ConfigFactory.load()).resolve();
        RingView view = new RingView();
        RingStore store = new RingStore(dir);
        ClusterMembers members = new ClusterMembers(NODE);
        CompletableFuture<Vnodes> vnodes = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            // Vnodes.start spawns the tracker that keeps `members` current: once the node is up, it is available.
            vnodes.complete(Vnodes.start(ctx, members, view, store.load(),
                    List.of(new ComponentService(NODE, new Hlc())), VnodeSettings.from(config)));
            ctx.spawn(RingManager.create(NODE, RingSettings.from(config), store, view), "ring");
            return Behaviors.empty();
        }), "smalti", config);
        try {
            Vnodes v = vnodes.get(30, TimeUnit.SECONDS);
            v.journalReady().toCompletableFuture().get(30, TimeUnit.SECONDS);
            Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
            ComponentRecords records = new ComponentRecords(v.client());
            awaitWritable(records);
            awaitAvailable(members, view);
            return new ComponentRing(dir, system, v, view, members, records);
        } catch (Exception | AssertionError e) {
            system.terminate();
            throw e;
        }
    }

    /** Until the ring exists and its vnodes serve, writes fail: retry a harmless one. */
    private static void awaitWritable(ComponentRecords records) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            try {
                records.add("index/warm-up", "warm-up").toCompletableFuture().get(5, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the one-node ring never accepted a write", last);
    }

    private static void awaitAvailable(ClusterMembers members, RingView view) {
        Eventually.await("node " + NODE + " to be an available member of a ring", java.time.Duration.ofSeconds(30),
                () -> {}, () -> members.available(NODE) && view.current().isPresent());
    }

    @Override
    public void close() throws IOException {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort: the JVM ends with the run anyway
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Resolves {@link ComponentRing} parameters with the run's one ring, starting it on first use. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == ComponentRing.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            return c.getRoot().getStore(ExtensionContext.Namespace.create(ComponentRing.class))
                    .computeIfAbsent(ComponentRing.class, k -> {
                        try {
                            return start();
                        } catch (Exception e) {
                            throw new IllegalStateException("cannot start the one-node ring: " + e, e);
                        }
                    }, ComponentRing.class);
        }
    }
}
