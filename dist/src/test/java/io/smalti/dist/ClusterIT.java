package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node agents as separate JVMs on loopback addresses: three form a cluster and agree on a balanced
 * ring; a fourth joins and the ring rebalances within the movement bound; one is killed with SIGKILL and,
 * once the split brain resolver downs it, the survivors agree on a ring without it; one more leaves on
 * SIGTERM. On failure the nodes' logs are printed.
 */
class ClusterIT {
    private static final int Q = 64;

    @TempDir
    Path work;

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killAll() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.kill();
        }
    }

    @Test
    void ringFollowsJoinsKillsAndLeaves() throws Exception {
        try {
            NodeProcess n1 = start("n1", "127.0.10.1", null);
            NodeProcess n2 = start("n2", "127.0.10.2", n1.clusterAddress());
            NodeProcess n3 = start("n3", "127.0.10.3", n1.clusterAddress());

            JsonNode three = awaitAgreement(List.of(n1, n2, n3), Duration.ofSeconds(90));
            assertSafeAndEven(three);
            Map<String, Integer> counts = Dist.counts(three);
            System.out.println("3 nodes: epoch " + three.path("epoch") + ", vnodes " + counts);
            assertEquals(Set.of("n1", "n2", "n3"), counts.keySet());
            counts.values().forEach(c -> assertTrue(c >= Q / 3 && c <= Q / 3 + 1, "each owns Q/3 +- 1: " + counts));
            for (NodeProcess n : List.of(n1, n2, n3)) {
                assertEquals(three.path("replicas").asInt(), 3);
                JsonNode nodesBody = Dist.getJson(n.api() + "/v1/nodes");
                assertEquals(3, nodesBody.path("nodes").size(), n.name + " lists 3 members");
            }

            // A fourth node joins: it takes about Q/4 vnodes, and only the surplus of the others moves.
            NodeProcess n4 = start("n4", "127.0.10.4", n1.clusterAddress());
            JsonNode four = awaitAgreement(List.of(n1, n2, n3, n4), Duration.ofSeconds(60));
            assertSafeAndEven(four);
            Map<String, Integer> counts4 = Dist.counts(four);
            System.out.println("4 nodes: epoch " + four.path("epoch") + ", vnodes " + counts4);
            assertTrue(four.path("epoch").asLong() > three.path("epoch").asLong());
            counts4.values().forEach(c -> assertEquals(Q / 4, c, "balanced: " + counts4));
            int moved = moved(three, four);
            int minimum = minimumMoves(counts, counts4.keySet());
            System.out.println("join moved " + moved + " vnodes; minimum " + minimum);
            assertTrue(moved <= Math.floor(1.1 * minimum), "moved " + moved + " > 1.1 x minimum " + minimum);
            List<String> before = Dist.owners(three);
            List<String> after = Dist.owners(four);
            for (int v = 0; v < Q; v++) {
                assertTrue(after.get(v).equals(before.get(v)) || after.get(v).equals("n4"), "only n4 gains, vnode " + v);
            }

            // SIGKILL n2: it becomes unreachable, the split brain resolver downs it, the ring drops it.
            long killedAt = System.nanoTime();
            n2.kill();
            List<NodeProcess> survivors = List.of(n1, n3, n4);
            JsonNode afterKill = awaitAgreement(survivors, Duration.ofSeconds(90));
            double seconds = (System.nanoTime() - killedAt) / 1e9;
            assertSafeAndEven(afterKill);
            Map<String, Integer> counts3 = Dist.counts(afterKill);
            System.out.printf("after SIGKILL of n2: ring epoch %d without n2 after %.1fs, vnodes %s%n",
                    afterKill.path("epoch").asLong(), seconds, counts3);
            assertEquals(Set.of("n1", "n3", "n4"), counts3.keySet());
            counts3.values().forEach(c -> assertTrue(c >= Q / 3 && c <= Q / 3 + 1, "balanced: " + counts3));
            assertEquals(minimumMoves(counts4, counts3.keySet()), moved(four, afterKill), "only n2's vnodes move");
            for (NodeProcess n : survivors) {
                Dist.await(Duration.ofSeconds(30), n.name + " to remove the downed n2 from its members", () -> {
                    JsonNode members = Dist.getJson(n.api() + "/v1/nodes");
                    Set<String> names = new TreeSet<>();
                    if (members != null) {
                        members.path("nodes").forEach(m -> names.add(m.path("name").asText()));
                    }
                    return names.equals(Set.of("n1", "n3", "n4")) ? names : null;
                });
            }

            // SIGTERM n4: it leaves the cluster gracefully and exits; the others take its vnodes.
            int exit = n4.terminate(Duration.ofSeconds(45));
            assertNotEquals(-1, exit, "n4 exits within 45s of SIGTERM");
            assertTrue(n4.logText().contains("Node n4 left the cluster and is stopping"), "n4 logs its graceful leave");
            JsonNode afterLeave = awaitAgreement(List.of(n1, n3), Duration.ofSeconds(60));
            assertEquals(Map.of("n1", Q / 2, "n3", Q / 2), Dist.counts(afterLeave));
            assertSafeAndEven(afterLeave);
        } catch (Throwable t) {
            for (NodeProcess n : nodes) {
                System.out.println("===== log of " + n.name + " (" + n.log + ") =====\n" + n.logText());
            }
            throw t;
        }
    }

    private NodeProcess start(String name, String host, String seed) throws Exception {
        NodeProcess n = NodeProcess.start(work, name, host, seed);
        nodes.add(n);
        return n;
    }

    /** Waits until every node is healthy and reports the same ring, owned by exactly these nodes. */
    private static JsonNode awaitAgreement(List<NodeProcess> group, Duration timeout) {
        Set<String> names = new TreeSet<>();
        group.forEach(n -> names.add(n.name));
        return Dist.await(timeout, "nodes " + names + " to agree on a ring owned by all of them", () -> {
            JsonNode first = null;
            for (NodeProcess n : group) {
                JsonNode health = Dist.getJson(n.api() + "/healthz");
                JsonNode ring = Dist.getJson(n.api() + "/v1/ring");
                if (health == null || ring == null || !Dist.counts(ring).keySet().equals(names)) {
                    return null;
                }
                if (first == null) {
                    first = ring;
                } else if (first.path("epoch").asLong() != ring.path("epoch").asLong()
                        || !first.path("owners").equals(ring.path("owners"))) {
                    return null;
                }
            }
            return first;
        });
    }

    /**
     * Claim properties (c) and (d) on a ring the cluster published: every preference list (first N
     * distinct owners clockwise) holds min(N, owners) distinct nodes, and each node's preference-list
     * slots are within 15% of the mean (Q=64 is at least 16 x the at most 4 nodes here). The API's own
     * replicaLoad figures must match.
     */
    private static void assertSafeAndEven(JsonNode ring) {
        List<String> owners = Dist.owners(ring);
        int n = ring.path("replicas").asInt();
        Set<String> distinct = new TreeSet<>(owners);
        int want = Math.min(n, distinct.size());
        Map<String, Integer> load = new java.util.TreeMap<>();
        List<List<String>> lists = Dist.preferenceLists(ring);
        for (int v = 0; v < lists.size(); v++) {
            List<String> list = lists.get(v);
            assertEquals(want, new TreeSet<>(list).size(), "preference list of vnode " + v + ": " + list);
            list.forEach(o -> load.merge(o, 1, Integer::sum));
        }
        double mean = (double) owners.size() * want / distinct.size();
        load.forEach((node, slots) -> assertTrue(Math.abs(slots - mean) <= 0.15 * mean,
                node + " holds " + slots + " preference-list slots, mean " + mean + ": " + load));
        ring.path("nodes").forEach(x -> assertEquals(load.get(x.path("name").asText()).intValue(),
                x.path("replicaLoad").asInt(), "replicaLoad reported for " + x.path("name").asText()));
    }

    private static int moved(JsonNode a, JsonNode b) {
        List<String> x = Dist.owners(a);
        List<String> y = Dist.owners(b);
        int moved = 0;
        for (int v = 0; v < x.size(); v++) {
            if (!x.get(v).equals(y.get(v))) {
                moved++;
            }
        }
        return moved;
    }

    /**
     * The fewest vnodes a balanced ring for {@code members} must move, given the counts before: departed
     * nodes' vnodes, plus the surplus of nodes above their target when the largest owners keep the extra
     * vnode.
     */
    static int minimumMoves(Map<String, Integer> before, Set<String> members) {
        int m = members.size();
        List<Integer> staying = new ArrayList<>();
        int departed = 0;
        for (var e : before.entrySet()) {
            if (members.contains(e.getKey())) {
                staying.add(e.getValue());
            } else {
                departed += e.getValue();
            }
        }
        while (staying.size() < m) {
            staying.add(0);
        }
        staying.sort((a, b) -> b - a);
        int surplus = 0;
        for (int i = 0; i < m; i++) {
            int target = Q / m + (i < Q % m ? 1 : 0);
            surplus += Math.max(0, staying.get(i) - target);
        }
        return departed + surplus;
    }
}
