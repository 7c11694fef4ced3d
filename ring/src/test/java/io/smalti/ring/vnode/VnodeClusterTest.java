package io.smalti.ring.vnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingManager;
import io.smalti.ring.cluster.RingSettings;
import io.smalti.ring.cluster.RingStore;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.cluster.SmaltiConfig;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.kv.KvClient;
import io.smalti.ring.kv.KvService;
import io.smalti.ring.testing.Await;
import io.smalti.ring.testing.TestNodeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vnode framework on cluster members in one JVM, each with its own H2 journal: writes reach W
 * replicas and every preference-list replica ends up with them; a join hands replicas to the new node
 * and the old copies are deleted; reads see every acknowledged write throughout.
 */
class VnodeClusterTest {
    private static final int Q = 16;

    @TempDir
    Path dir;

    private final List<ActorSystem<Void>> systems = new ArrayList<>();

    record Node(String name, ActorSystem<Void> system, RingView ring, Vnodes vnodes, KvClient kv, ClusterMembers members) {}

    /**
     * A W=2 put as a client would make it: retried (after 500 ms) when too few replicas were reachable, which
     * a burst of 500 writes on a loaded 2-core machine can cause for a moment (a heartbeat late on the loopback).
     */
    private static CompletableFuture<KvClient.Written> putRetrying(Node via, String key, ByteString value, int attempts) {
        return via.kv().put(key, value, 2).toCompletableFuture().handle((w, e) -> {
            if (e == null) {
                return CompletableFuture.completedFuture(w);
            }
            if (attempts <= 1) {
                return CompletableFuture.<KvClient.Written>failedFuture(e);
            }
            return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS))
                    .thenCompose(x -> putRetrying(via, key, value, attempts - 1));
        }).thenCompose(f -> f);
    }

    Node start(String name) {
        return start(name, "");
    }

    /** Node {@code name} with {@code extra} settings in front of the test's. */
    Node start(String name, String extra) {
        Path data = dir.resolve(name);
        data.toFile().mkdirs();
        Config config = ConfigFactory.parseString(extra).withFallback(ConfigFactory.parseString("""
                smalti.ring.size = %d
                smalti.vnode.anti-entropy.interval = 200ms
                smalti.vnode.request-timeout = 3s
                smalti.vnode.handoff.batch-size = 50
                """.formatted(Q)))
                .withFallback(TestNodeConfig.of(name))
                .withFallback(JournalConfig.h2(data.resolve("journal"), 2))
                .withFallback(SmaltiConfig.libraryDefaults()).withFallback(ConfigFactory.load()).resolve();
        RingView view = new RingView();
        AtomicReference<Vnodes> vnodes = new AtomicReference<>();
        RingStore store = new RingStore(data);
        ClusterMembers members = new ClusterMembers(name);
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            vnodes.set(Vnodes.start(ctx, members, view, store.load(),
                    List.of(new KvService(name, new Hlc())), VnodeSettings.from(config)));
            ctx.spawn(RingManager.create(name, RingSettings.from(config), store, view), "ring");
            return Behaviors.empty();
        }), "smalti", config);
        systems.add(system);
        await(() -> vnodes.get(), "vnodes of " + name);
        return new Node(name, system, view, vnodes.get(), new KvClient(vnodes.get().client()), members);
    }

    @AfterEach
    void stop() {
        for (ActorSystem<Void> s : systems) {
            s.terminate();
            s.getWhenTerminated().toCompletableFuture().join();
        }
    }

    @Test
    void writesReachEveryReplicaAndSurviveAJoin() throws Exception {
        Node a = start("a");
        Node b = start("b");
        Node c = start("c");
        join(a, List.of(a, b, c));
        awaitRing(List.of(a, b, c));
        awaitQuiet(List.of(a, b, c));

        Map<String, Long> written = new HashMap<>();
        List<CompletableFuture<?>> puts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            String key = "key-" + i;
            Node via = List.of(a, b, c).get(i % 3);
            // Every fourth value is 40 KB: a vnode's records then exceed one cluster message (256 KiB),
            // so handoff and repair must page them.
            ByteString value = ByteString.copyFromUtf8("v" + i + (i % 4 == 0 ? "x".repeat(40_000) : ""));
            puts.add(putRetrying(via, key, value, 3)
                    .thenAccept(w -> {
                        assertTrue(w.acks() >= 2, "W=2 acknowledged");
                        synchronized (written) {
                            written.put(key, w.timestamp());
                        }
                    }));
        }
        CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertAllReadable(written, List.of(a, b, c));
        awaitReplicasLevel(List.of(a, b, c), written.keySet());

        Node d = start("d");
        join(a, List.of(d));
        Ring four = awaitRing(List.of(a, b, c, d));
        assertAllReadable(written, List.of(a, b, c, d));
        awaitQuiet(List.of(a, b, c, d));
        awaitReplicasLevel(List.of(a, b, c, d), written.keySet());
        // Old copies are gone: each node keeps only replicas of vnodes whose preference list holds it.
        for (Node n : List.of(a, b, c, d)) {
            for (Vnodes.ReplicaInfo r : n.vnodes().replicas().toCompletableFuture().get(10, TimeUnit.SECONDS)) {
                assertTrue(four.preferenceList(r.vnode()).nodes().contains(n.name()) || r.records() == 0,
                        n.name() + " still holds " + r);
            }
        }
        assertAllReadable(written, List.of(d));
    }

    /**
     * Three nodes that form a new cluster together get its first ring at once: none of them held anything
     * before, so none waits for records from another (they once waited for each other for good, and every
     * read of a vnode bounced between them until it timed out).
     */
    @Test
    void nodesFormingANewClusterTogetherServeAtOnce() throws Exception {
        // The leader moves members Up only once three have joined: the first ring names all three.
        String together = "pekko.cluster.min-nr-of-members = 3";
        Node a = start("a", together);
        Node b = start("b", together);
        Node c = start("c", together);
        List<Node> all = List.of(a, b, c);
        join(a, all);
        Ring first = awaitRing(all);
        assertEquals(1, first.epoch(), "the cluster's first ring already names every node");
        await(() -> all.stream().allMatch(n -> n.members().availableNames().size() == 3) ? true : null,
                "every node to see the others available");

        Map<String, Long> written = new HashMap<>();
        for (int i = 0; i < 48; i++) {
            String key = "first-" + i;
            KvClient.Written w = all.get(i % 3).kv().put(key, ByteString.copyFromUtf8("v" + i), 2)
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
            written.put(key, w.timestamp());
        }
        // Reads answer within the request timeout on their first try, through every node.
        assertAllReadable(written, all);
        awaitQuiet(all);
        for (Node n : all) {
            assertTrue(n.vnodes().transfers().stream().noneMatch(t -> t.transfer().getTo().equals(n.name())),
                    n.name() + " received replicas in a new cluster: " + n.vnodes().transfers());
        }
    }

    /**
     * One node with records, then three join at once: some vnodes' preference lists now name only new nodes,
     * none of which knows who held them. They find the node that did instead of waiting on each other or
     * taking each other's empty answer for the vnode's records.
     */
    @Test
    void threeNodesJoiningOneTogetherFindItsRecords() throws Exception {
        Node a = start("a");
        join(a, List.of(a));
        awaitRing(List.of(a));
        Map<String, Long> written = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            String key = "solo-" + i;
            written.put(key, a.kv().put(key, ByteString.copyFromUtf8("v" + i), 1).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).timestamp());
        }
        Node b = start("b");
        Node c = start("c");
        Node d = start("d");
        List<Node> all = List.of(a, b, c, d);
        join(a, List.of(b, c, d));
        Ring four = awaitRing(all);
        boolean allNew = false;
        for (int v = 0; v < four.size(); v++) {
            allNew |= !four.preferenceList(v).nodes().contains("a");
        }
        assertTrue(allNew, "some vnode's replicas are all on the new nodes: " + four.vnodeCounts());
        awaitQuiet(all);
        awaitReplicasLevel(all, written.keySet());
        assertAllReadable(written, List.of(b, c, d));
    }

    private void join(Node seed, List<Node> nodes) {
        var address = Cluster.get(seed.system()).selfMember().address();
        nodes.forEach(n -> Cluster.get(n.system()).manager().tell(Join.create(address)));
    }

    private Ring awaitRing(List<Node> nodes) {
        Set<String> names = new TreeSet<>();
        nodes.forEach(n -> names.add(n.name()));
        return await(() -> {
            Ring first = nodes.get(0).ring().current().orElse(null);
            if (first == null || !first.vnodeCounts().keySet().equals(names)) {
                return null;
            }
            return nodes.stream().allMatch(n -> first.equals(n.ring().current().orElse(null))) ? first : null;
        }, "a ring owned by " + names);
    }

    /** No node receiving or handing off anything. */
    private void awaitQuiet(List<Node> nodes) {
        await(() -> nodes.stream().allMatch(n -> n.vnodes().transfers().stream()
                .allMatch(t -> t.transfer().getState().equals("done"))) ? true : null,
                "handoffs to finish: " + nodes.stream().map(n -> n.vnodes().transfers()).toList());
    }

    private static void assertAllReadable(Map<String, Long> written, List<Node> via) throws Exception {
        for (Node n : via) {
            for (var e : written.entrySet()) {
                var v = n.kv().get(e.getKey(), 2).toCompletableFuture().get(10, TimeUnit.SECONDS);
                assertTrue(v.isPresent(), e.getKey() + " readable via " + n.name());
                assertTrue(v.get().timestamp() >= e.getValue(), "acknowledged write of " + e.getKey() + " kept");
            }
        }
    }

    /** Every preference-list replica of every vnode holds exactly the keys written to it, identically. */
    private void awaitReplicasLevel(List<Node> nodes, Set<String> keys) {
        await(() -> {
            Ring ring = nodes.get(0).ring().current().orElseThrow();
            Map<Integer, Integer> expected = new HashMap<>();
            keys.forEach(k -> expected.merge(KeySpace.vnode(ring, k), 1, Integer::sum));
            Map<String, Map<Integer, Vnodes.ReplicaInfo>> byNode = new HashMap<>();
            for (Node n : nodes) {
                Map<Integer, Vnodes.ReplicaInfo> m = new HashMap<>();
                try {
                    n.vnodes().replicas().toCompletableFuture().get(10, TimeUnit.SECONDS).forEach(r -> m.put(r.vnode(), r));
                } catch (Exception e) {
                    return null;
                }
                byNode.put(n.name(), m);
            }
            for (int v = 0; v < ring.size(); v++) {
                String digest = null;
                for (String holder : ring.preferenceList(v).nodes()) {
                    Vnodes.ReplicaInfo r = byNode.get(holder).get(v);
                    long records = r == null ? 0 : r.records();
                    if (records != expected.getOrDefault(v, 0)) {
                        return null;
                    }
                    if (r != null && digest != null && !digest.equals(r.digest())) {
                        return null;
                    }
                    digest = r == null ? digest : r.digest();
                }
            }
            return true;
        }, "every replica to hold its vnode's keys");
    }

    private static <T> T await(Supplier<T> probe, String what) {
        return Await.await(Duration.ofSeconds(60), probe, what);
    }
}
