package io.smalti.hub.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.smalti.hub.records.HubRecords;
import io.smalti.hub.records.HubService;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.NodeNames;
import io.smalti.ring.cluster.RingManager;
import io.smalti.ring.cluster.RingSettings;
import io.smalti.ring.cluster.RingStore;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.cluster.SmaltiConfig;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import io.smalti.ring.vnode.JournalConfig;
import io.smalti.ring.vnode.VnodeSettings;
import io.smalti.ring.vnode.Vnodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
 * A one-node ring running the hub service on an H2 journal in a temporary directory: started once for the
 * whole test run (the first test class that asks for it) and stopped when the run ends. Test classes
 * take it as a parameter ({@code @BeforeAll static void start(OneNodeRing ring)}) with
 * {@code @ExtendWith(OneNodeRing.Extension.class)}; they share it, so they use fresh ids and group names.
 */
public final class OneNodeRing implements AutoCloseable {
    public static final String NODE = "n1";

    private final Path dir;
    private final ActorSystem<Void> system;
    private final HubRecords records;

    private OneNodeRing(Path dir, ActorSystem<Void> system, HubRecords records) {
        this.dir = dir;
        this.system = system;
        this.records = records;
    }

    public HubRecords records() {
        return records;
    }

    /** A fresh component id (an instance id at a random place on the ring), in its lower-case text form. */
    public static String newComponent() {
        return Id.random(Category.INSTANCE, ThreadLocalRandom.current()).toString();
    }

    /** A fresh group name. */
    public static String newGroup(String hint) {
        return hint + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    static OneNodeRing start() throws Exception {
        Path dir = Files.createTempDirectory("smalti-hub-test");
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
        CompletableFuture<Vnodes> vnodes = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            vnodes.complete(Vnodes.start(ctx, new ClusterMembers(NODE), view, store.load(),
                    List.of(new HubService(NODE, new Hlc())), VnodeSettings.from(config)));
            ctx.spawn(RingManager.create(NODE, RingSettings.from(config), store, view), "ring");
            return Behaviors.empty();
        }), "smalti", config);
        try {
            Vnodes v = vnodes.get(30, TimeUnit.SECONDS);
            v.journalReady().toCompletableFuture().get(30, TimeUnit.SECONDS);
            Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
            HubRecords records = new HubRecords(v.client());
            awaitWritable(records);
            return new OneNodeRing(dir, system, records);
        } catch (Exception | AssertionError e) {
            system.terminate();
            throw e;
        }
    }

    /** Until the ring exists and its vnodes serve, writes fail: retry a harmless one. */
    private static void awaitWritable(HubRecords records) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            try {
                records.addWatcher("watchers/" + newComponent(), "warm-up").toCompletableFuture().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the one-node ring never accepted a write", last);
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

    /** Resolves {@link OneNodeRing} parameters with the run's one ring, starting it on first use. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == OneNodeRing.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            return c.getRoot().getStore(ExtensionContext.Namespace.create(OneNodeRing.class))
                    .computeIfAbsent(OneNodeRing.class, k -> {
                        try {
                            return start();
                        } catch (Exception e) {
                            throw new IllegalStateException("cannot start the one-node ring: " + e, e);
                        }
                    }, OneNodeRing.class);
        }
    }
}
