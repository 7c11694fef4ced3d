package io.smalti.ring.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingManager;
import io.smalti.ring.cluster.RingSettings;
import io.smalti.ring.cluster.RingStore;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.cluster.SmaltiConfig;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.vnode.JournalConfig;
import io.smalti.ring.vnode.VnodeClient;
import io.smalti.ring.vnode.VnodeService;
import io.smalti.ring.vnode.VnodeSettings;
import io.smalti.ring.vnode.Vnodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A one-node cluster (node {@value #NODE}, a ring of 8 vnodes) running the given ring services on an H2
 * journal in a temporary directory, for the tests of modules built on the vnode framework (the hub, the
 * component controller). {@link #start} returns once the node is an available member of a ring; close it
 * to stop the actor system and delete the directory.
 */
public final class OneNodeCluster implements AutoCloseable {
    public static final String NODE = "n1";

    private final Path dir;
    private final ActorSystem<Void> system;
    private final Vnodes vnodes;
    private final RingView view;
    private final ClusterMembers members;

    private OneNodeCluster(Path dir, ActorSystem<Void> system, Vnodes vnodes, RingView view, ClusterMembers members) {
        this.dir = dir;
        this.system = system;
        this.vnodes = vnodes;
        this.view = view;
        this.members = members;
    }

    /**
     * Starts the node with the services {@code services} makes (given the node's clock).
     *
     * @param hint names the temporary directory
     */
    public static OneNodeCluster start(String hint, Function<Hlc, List<VnodeService>> services) throws Exception {
        Path dir = Files.createTempDirectory("smalti-" + hint + "-test");
        Config config = ConfigFactory.parseString("""
                pekko.loglevel = WARNING
                smalti.ring.size = 8
                smalti.vnode.request-timeout = 3s
                """)
                .withFallback(TestNodeConfig.of(NODE))
                .withFallback(JournalConfig.h2(dir.resolve("journal"), 2))
                .withFallback(SmaltiConfig.libraryDefaults()).withFallback(ConfigFactory.load()).resolve();
        RingView view = new RingView();
        RingStore store = new RingStore(dir);
        ClusterMembers members = new ClusterMembers(NODE);
        Hlc clock = new Hlc();
        CompletableFuture<Vnodes> vnodes = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            // Vnodes.start spawns the tracker that keeps `members` current: once the node is up, it is available.
            vnodes.complete(Vnodes.start(ctx, members, view, store.load(), services.apply(clock), VnodeSettings.from(config)));
            ctx.spawn(RingManager.create(NODE, RingSettings.from(config), store, view), "ring");
            return Behaviors.empty();
        }), "smalti", config);
        try {
            Vnodes v = vnodes.get(30, TimeUnit.SECONDS);
            v.journalReady().toCompletableFuture().get(30, TimeUnit.SECONDS);
            Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
            Await.await(java.time.Duration.ofSeconds(30), () -> members.available(NODE) && view.current().isPresent() ? true : null,
                    "node " + NODE + " to be an available member of a ring");
            return new OneNodeCluster(dir, system, v, view, members);
        } catch (Exception | AssertionError e) {
            system.terminate();
            throw e;
        }
    }

    /** Until its vnodes serve, writes fail: retries {@code write} (a harmless one) until it succeeds. */
    public void awaitWritable(Callable<?> write) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            try {
                write.call();
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the one-node ring never accepted a write", last);
    }

    public VnodeClient client() {
        return vnodes.client();
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

    /** A fresh directory under the cluster's temporary directory, deleted with it. */
    public Path newDir(String hint) throws IOException {
        return Files.createTempDirectory(dir, hint + "-");
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
}
