package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicated vnode state across node agents running as separate JVMs (N=3, W=2, R=2): a killed node
 * loses nothing and catches up after a restart; a join and a graceful leave under load lose nothing; a
 * partition with writes on both sides converges. Each test prints how many acknowledged writes were
 * lost and asserts it is 0. On failure the nodes' logs are printed.
 */
class ReplicationIT {
    private static final int Q = 64;

    @TempDir
    Path work;

    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<String> firewallRules = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (String rule : firewallRules) {
            iptables("-D", rule);
        }
        for (NodeProcess n : nodes) {
            n.kill();
        }
    }

    /** A configuration file for this test's nodes (anti-entropy sped up so the tests stay short). */
    private Path config(String extra) throws IOException {
        Path f = work.resolve("test-" + System.nanoTime() + ".conf");
        Files.writeString(f, "smalti.vnode.anti-entropy.interval = 250ms\n" + extra);
        return f;
    }

    private NodeProcess start(String name, String host, NodeProcess seed, Path config) throws IOException {
        NodeProcess n = NodeProcess.start(work, name, host, seed == null ? null : seed.clusterAddress(),
                "--config", config.toString());
        nodes.add(n);
        return n;
    }

    @Test
    void aKilledNodeLosesNothingAndCatchesUpAfterRestart() throws Exception {
        try {
            Path conf = config("");
            NodeProcess n1 = start("n1", "127.0.20.1", null, conf);
            NodeProcess n2 = start("n2", "127.0.20.2", n1, conf);
            NodeProcess n3 = start("n3", "127.0.20.3", n1, conf);
            List<NodeProcess> all = List.of(n1, n2, n3);
            awaitRing(all, Duration.ofSeconds(90));

            KvLoad kv = new KvLoad();
            Random rnd = new Random(1);
            int failed = kv.writeMany("key", 10_000, () -> all.get(rnd.nextInt(3)).api(), 32);
            System.out.printf("wrote 10000 keys through random nodes: %d acknowledged, %d failed%n", kv.acked.size(), failed);
            assertEquals(0, failed, "every write acknowledged while all nodes are up");
            awaitLevel(all, kv, Duration.ofSeconds(60));

            n3.kill();
            List<NodeProcess> survivors = List.of(n1, n2);
            List<String> lost = kv.lost(() -> survivors.get(ThreadLocalRandom.current().nextInt(2)).api(), 32);
            System.out.println("after SIGKILL of n3: acknowledged writes lost: " + lost.size());
            assertEquals(List.of(), lost.subList(0, Math.min(5, lost.size())), "every key is still readable");

            // Once the split brain resolver has downed n3, the ring is recomputed without it.
            awaitRing(survivors, Duration.ofSeconds(60));
            // Writes n3 misses while it is away: it must catch up on them after its restart.
            failed = kv.writeMany("while-n3-away", 2_000, () -> survivors.get(rnd.nextInt(2)).api(), 32);
            assertEquals(0, failed, "the two survivors acknowledge writes (W=2)");
            n3.restart();
            awaitRing(all, Duration.ofSeconds(90));
            long recovered = recoveredRecords(n3);
            System.out.println("n3 recovered " + recovered + " records from its journal after the restart");
            assertTrue(recovered >= 9_000, "n3 replays its journal (it held every key): " + recovered);

            awaitLevel(all, kv, Duration.ofSeconds(120));
            lost = kv.lost(n3::api, 32);
            System.out.println("after restart and anti-entropy: acknowledged writes lost: " + lost.size());
            assertEquals(0, lost.size(), "lost: " + lost.subList(0, Math.min(5, lost.size())));
        } catch (Throwable t) {
            printLogs();
            throw t;
        }
    }

    @Test
    void joinAndGracefulLeaveUnderLoadLoseNothing() throws Exception {
        try {
            // Small handoff batches, one at a time, so the handoff is long enough to watch.
            Path conf = config("smalti.vnode.handoff.batch-size = 10\nsmalti.vnode.handoff.concurrency = 1\n");
            NodeProcess n1 = start("n1", "127.0.21.1", null, conf);
            NodeProcess n2 = start("n2", "127.0.21.2", n1, conf);
            NodeProcess n3 = start("n3", "127.0.21.3", n1, conf);
            awaitRing(List.of(n1, n2, n3), Duration.ofSeconds(90));
            KvLoad kv = new KvLoad();
            List<NodeProcess> three = List.of(n1, n2, n3);
            assertEquals(0, kv.writeMany("pre", 6_000, () -> three.get(ThreadLocalRandom.current().nextInt(3)).api(), 32));

            List<NodeProcess> live = new java.util.concurrent.CopyOnWriteArrayList<>(three);
            Traffic traffic = new Traffic(kv, live);
            traffic.start();

            NodeProcess n4 = start("n4", "127.0.21.4", n1, conf);
            // Watch the handoff: the ring listing shows it in progress, and the CLI shows it too.
            Map<String, JsonNode> seen = new ConcurrentHashMap<>();
            String cliShowed = Dist.await(Duration.ofSeconds(90), "smalti ring --handoffs to show a live handoff", () -> {
                recordTransfers(n1, seen);
                Dist.Run run = Dist.smalti(Duration.ofSeconds(20), work, "ring", "--handoffs", "--node", n1.api());
                Matcher m = Pattern.compile("Handoffs: (\\d+) in progress").matcher(run.out());
                return m.find() && Integer.parseInt(m.group(1)) > 0 && run.out().contains("streaming") ? run.out() : null;
            });
            Dist.await(Duration.ofSeconds(60), "n4 to serve requests", () -> Dist.getJson(n4.api() + "/healthz"));
            live.add(n4);
            System.out.println("smalti ring --handoffs during the join:\n" + cliShowed.lines().limit(8)
                    .reduce("", (a, b) -> a + b + "\n"));
            JsonNode four = awaitRing(List.of(n1, n2, n3, n4), Duration.ofSeconds(120));
            Dist.await(Duration.ofSeconds(120), "the join's handoffs to finish", () -> {
                recordTransfers(n1, seen);
                return activeTransfers(n1) == 0 ? true : null;
            });
            long owned = Dist.counts(four).get("n4");
            long ownershipMoves = seen.values().stream().filter(t -> t.path("to").asText().equals("n4")
                    && t.path("kind").asText().equals("ownership")).map(t -> t.path("vnode").asInt()).distinct().count();
            System.out.printf("join: n4 owns %d vnodes; ownership handoffs to n4 seen: %d; replica transfers seen: %d%n",
                    owned, ownershipMoves, seen.size());
            assertEquals(Q / 4, owned, "n4 takes Q/4 vnodes");
            assertTrue(ownershipMoves >= Q / 4 - 2 && ownershipMoves <= Q / 4,
                    "about Q/4 vnodes change primary by handoff: " + ownershipMoves);

            // A graceful leave: SIGTERM hands n2's replicas off before it leaves.
            live.remove(n2);
            int exit = n2.terminate(Duration.ofSeconds(90));
            assertTrue(exit != -1, "n2 exits after handing off");
            assertTrue(n2.logText().contains("Leaving: every replica handed off"), "n2 handed everything off");
            awaitRing(List.of(n1, n3, n4), Duration.ofSeconds(60));

            traffic.stop();
            System.out.printf("under load: %d writes acknowledged, %d not; %d reads ok, %d failed; longest read outage %.1fs%n",
                    traffic.writes.get(), traffic.writeFailures.get(), traffic.reads.get(), traffic.readFailures.get(),
                    traffic.longestOutageNanos.get() / 1e9);
            traffic.failureReasons.forEach((k, v) -> System.out.println("  " + v + " x " + k));
            kv.writeFailures.forEach((k, v) -> System.out.println("  " + v + " x write " + k));
            List<NodeProcess> remaining = List.of(n1, n3, n4);
            List<String> lost = kv.lost(() -> remaining.get(ThreadLocalRandom.current().nextInt(3)).api(), 32);
            System.out.println("join and graceful leave: acknowledged writes lost: " + lost.size());
            assertEquals(0, lost.size(), "lost: " + lost.subList(0, Math.min(5, lost.size())));
            assertTrue(traffic.longestOutageNanos.get() < Duration.ofSeconds(5).toNanos(),
                    "reads fail for at most a bounded window");
            awaitLevel(remaining, kv, Duration.ofSeconds(120));
        } catch (Throwable t) {
            printLogs();
            throw t;
        }
    }

    @Test
    void writesOnBothSidesOfAPartitionConverge() throws Exception {
        assumeTrue(canUseIptables(), "needs root and iptables to partition loopback addresses; skipped");
        try {
            // The split brain resolver must not act during the test's partition.
            Path conf = config("pekko.cluster.split-brain-resolver.stable-after = 60s\n");
            NodeProcess n1 = start("n1", "127.0.22.1", null, conf);
            NodeProcess n2 = start("n2", "127.0.22.2", n1, conf);
            NodeProcess n3 = start("n3", "127.0.22.3", n1, conf);
            List<NodeProcess> all = List.of(n1, n2, n3);
            awaitRing(all, Duration.ofSeconds(90));
            KvLoad kv = new KvLoad();
            int keys = 200;
            for (int i = 0; i < keys; i++) {
                kv.put(n1.api(), "k" + i, "before", 2);
            }

            for (NodeProcess other : List.of(n1, n2)) {
                block(n3.host, other.host);
            }
            awaitReachability(n1, "n3", false);
            awaitReachability(n3, "n1", false);
            int majority = 0;
            int minority = 0;
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < keys; i++) {
                    if (kv.put((i + round) % 2 == 0 ? n1.api() : n2.api(), "k" + i, "majority-" + round, 2) != null) {
                        majority++;
                    }
                    // The isolated node cannot reach a second replica: it stores the write alone (W=1).
                    if (kv.put(n3.api(), "k" + i, "minority-" + round, 1) != null) {
                        minority++;
                    }
                }
            }
            System.out.printf("during the partition: %d writes acknowledged by the majority side, %d by the isolated node%n",
                    majority, minority);
            assertTrue(majority > 0 && minority > 0, "both sides accepted writes");

            for (String rule : List.copyOf(firewallRules)) {
                iptables("-D", rule);
                firewallRules.remove(rule);
            }
            awaitReachability(n1, "n3", true);
            awaitReachability(n3, "n1", true);
            awaitLevel(all, kv, Duration.ofSeconds(120));

            int disagreements = 0;
            for (int i = 0; i < keys; i++) {
                Set<String> values = new TreeSet<>();
                for (NodeProcess n : all) {
                    KvLoad.ReadResult r = kv.get(n.api(), "k" + i);
                    values.add(r.value() + "@" + r.timestamp());
                }
                if (values.size() != 1) {
                    disagreements++;
                }
            }
            List<String> lost = kv.lost(n2::api, 16);
            System.out.printf("after healing: %d keys read differently on different nodes; acknowledged writes lost: %d%n",
                    disagreements, lost.size());
            assertEquals(0, disagreements, "every key converged to one value on every node");
            assertEquals(0, lost.size(), "lost: " + lost.subList(0, Math.min(5, lost.size())));
        } catch (Throwable t) {
            printLogs();
            throw t;
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** Reads and writes while the cluster changes, recording the longest stretch of failing reads. */
    private static final class Traffic {
        final AtomicLong writes = new AtomicLong();
        final AtomicLong writeFailures = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong readFailures = new AtomicLong();
        final AtomicLong longestOutageNanos = new AtomicLong();
        final Map<String, Integer> failureReasons = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final KvLoad kv;
        private final List<NodeProcess> live;
        private final List<Thread> threads = new ArrayList<>();

        Traffic(KvLoad kv, List<NodeProcess> live) {
            this.kv = kv;
            this.live = live;
        }

        void start() {
            for (int t = 0; t < 2; t++) {
                int writer = t;
                threads.add(daemon(() -> {
                    int i = 0;
                    while (running.get()) {
                        NodeProcess via = live.get(ThreadLocalRandom.current().nextInt(live.size()));
                        if (kv.put(via.api(), "live-" + writer + "-" + i++, "x", 2) != null) {
                            writes.incrementAndGet();
                        } else {
                            writeFailures.incrementAndGet();
                        }
                    }
                }));
            }
            threads.add(daemon(() -> {
                long failingSince = 0;
                List<String> keys = new ArrayList<>();
                while (running.get()) {
                    if (keys.size() < 1000) {
                        keys = new ArrayList<>(kv.acked.keySet());
                    }
                    String key = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
                    NodeProcess via = live.get(ThreadLocalRandom.current().nextInt(live.size()));
                    KvLoad.ReadResult r = kv.get(via.api(), key);
                    long now = System.nanoTime();
                    if (r.status() == 200 && r.timestamp() >= kv.acked.get(key).timestamp()) {
                        reads.incrementAndGet();
                        failingSince = 0;
                    } else {
                        readFailures.incrementAndGet();
                        failureReasons.merge("read " + r.status() + " " + String.valueOf(r.error()).replaceAll("kv/\\d+", "kv/N")
                                .replaceAll("'[^']*'", "'K'").replaceAll("\\d+ms", "Nms"), 1, Integer::sum);
                        failingSince = failingSince == 0 ? now : failingSince;
                        longestOutageNanos.accumulateAndGet(now - failingSince, Math::max);
                    }
                }
            }));
        }

        private static Thread daemon(Runnable r) {
            Thread t = new Thread(r, "kv-traffic");
            t.setDaemon(true);
            t.start();
            return t;
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(15_000);
            }
        }
    }

    /** Waits until the given nodes agree on a ring owned by exactly them. */
    private static JsonNode awaitRing(List<NodeProcess> group, Duration timeout) {
        Set<String> names = new TreeSet<>();
        group.forEach(n -> names.add(n.name));
        return Dist.await(timeout, "nodes " + names + " to agree on a ring owned by them", () -> {
            JsonNode first = null;
            for (NodeProcess n : group) {
                JsonNode ring = Dist.getJson(n.api() + "/v1/ring");
                if (ring == null || !Dist.counts(ring).keySet().equals(names)) {
                    return null;
                }
                if (first != null && (first.path("epoch").asLong() != ring.path("epoch").asLong()
                        || !first.path("owners").equals(ring.path("owners")))) {
                    return null;
                }
                first = ring;
            }
            return first;
        });
    }

    /** Waits until every replica of every vnode holds the acknowledged keys written to it, identically. */
    private static void awaitLevel(List<NodeProcess> group, KvLoad kv, Duration timeout) {
        Map<Integer, Integer> expected = new HashMap<>();
        kv.acked.values().forEach(a -> expected.merge(a.vnode(), 1, Integer::sum));
        String[] last = {""};
        long t0 = System.nanoTime();
        try {
            Dist.await(timeout, "every replica to hold every key", () -> {
                String why = Dist.notLevel(group, expected, kv.uncertain());
                last[0] = why;
                return why == null ? true : null;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last difference: " + last[0], e);
        }
        System.out.printf("every replica holds every key (%d keys on %d nodes) after %.1fs%n",
                kv.acked.size(), group.size(), (System.nanoTime() - t0) / 1e9);
    }

    private static void recordTransfers(NodeProcess n, Map<String, JsonNode> seen) {
        JsonNode ring = Dist.getJson(n.api() + "/v1/ring");
        if (ring != null) {
            ring.path("transfers").forEach(t -> seen.put(t.path("vnode").asInt() + ":" + t.path("from").asText() + ">"
                    + t.path("to").asText() + ":" + t.path("startedAt").asText(), t));
        }
    }

    private static int activeTransfers(NodeProcess n) {
        JsonNode ring = Dist.getJson(n.api() + "/v1/ring");
        if (ring == null) {
            return -1;
        }
        int active = 0;
        for (JsonNode t : ring.path("transfers")) {
            if (!"done".equals(t.path("state").asText())) {
                active++;
            }
        }
        return active;
    }

    private static long recoveredRecords(NodeProcess n) {
        Matcher m = Pattern.compile("Replica kv/\\d+ recovered (\\d+) records from the journal").matcher(n.logText());
        long total = 0;
        while (m.find()) {
            total += Long.parseLong(m.group(1));
        }
        return total;
    }

    private static void awaitReachability(NodeProcess observer, String node, boolean reachable) {
        Dist.await(Duration.ofSeconds(30), observer.name + " to see " + node + (reachable ? " reachable" : " unreachable"), () -> {
            JsonNode members = Dist.getJson(observer.api() + "/v1/nodes");
            if (members == null) {
                return null;
            }
            for (JsonNode m : members.path("nodes")) {
                if (m.path("name").asText().equals(node) && m.path("reachable").asBoolean() == reachable) {
                    return true;
                }
            }
            return null;
        });
    }

    private void block(String a, String b) throws Exception {
        for (String rule : List.of("INPUT -s " + a + " -d " + b + " -j DROP", "INPUT -s " + b + " -d " + a + " -j DROP")) {
            iptables("-I", rule);
            firewallRules.add(rule);
        }
    }

    private static boolean canUseIptables() {
        try {
            return new ProcessBuilder("iptables", "-L", "INPUT", "-n").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static void iptables(String op, String rule) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("iptables", op));
        cmd.addAll(List.of(rule.split(" ")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("iptables " + op + " " + rule + " failed: " + out);
        }
    }

    private void printLogs() {
        for (NodeProcess n : nodes) {
            String log = n.logText();
            String tail = log.lines().skip(Math.max(0, log.lines().count() - 150)).reduce("", (x, y) -> x + y + "\n");
            System.out.println("===== last lines of " + n.name + " (" + n.log + ") =====\n" + tail);
        }
    }
}
