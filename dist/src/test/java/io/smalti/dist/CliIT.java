package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code smalti} command as a user runs it: a local cluster up, inspected, a killed node started again by
 * another up, and down again.
 */
class CliIT {
    @TempDir
    Path work;

    private final List<Long> pids = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void clusterUpShowsOneBalancedRingStartsAKilledNodeAgainAndDownLeavesNoProcess() throws Exception {
        Path state = work.resolve("state");
        int clusterPort = Dist.portFreeOnAll(3);
        int apiPort = Dist.portFreeOnAll(3);
        Dist.Run up = Dist.smalti(Duration.ofMinutes(4), work, "cluster", "up", "--nodes", "3", "--driver", "process", "--state-dir",
                state.toString(), "--cluster-port", Integer.toString(clusterPort), "--api-port", Integer.toString(apiPort),
                "--hub-port", Integer.toString(Dist.portFreeOnAll(3)));
        Dist.useOperator(state.resolve("operator")); // cluster up made it, with the cluster CA
        JsonNode recorded = Dist.JSON.readTree(state.resolve("cluster.json").toFile());
        recorded.path("nodes").forEach(n -> pids.add(n.path("pid").asLong()));
        try {
            assertEquals(0, up.exit(), "cluster up failed:\n" + up.out() + up.err());
            assertTrue(up.out().contains("All 3 nodes report epoch"), up.out());
            assertTrue(up.out().contains("The ring, clockwise from vnode 0"), up.out());

            Dist.Run ring = Dist.smalti(Duration.ofSeconds(30), work, "ring", "--json", "--state-dir", state.toString());
            assertEquals(0, ring.exit(), ring.err());
            JsonNode r = Dist.JSON.readTree(ring.out());
            assertTrue(r.path("agreement").path("agreed").asBoolean(), ring.out());
            assertEquals(3, r.path("agreement").path("nodes").size());
            for (JsonNode n : r.path("agreement").path("nodes")) {
                assertEquals(r.path("epoch").asLong(), n.path("epoch").asLong(), "same epoch on " + n.path("name"));
                assertTrue(n.path("sameOwners").asBoolean(), "same owners on " + n.path("name"));
            }
            Map<String, Integer> counts = Dist.counts(r);
            assertEquals(3, counts.size());
            counts.values().forEach(c -> assertTrue(c == 21 || c == 22, "balanced: " + counts));
            assertEquals(64, r.path("owners").size());
            assertTrue(r.path("transfers").isArray());

            Dist.Run nodes = Dist.smalti(Duration.ofSeconds(30), work, "nodes", "--json", "--state-dir", state.toString());
            assertEquals(0, nodes.exit(), nodes.err());
            JsonNode members = Dist.JSON.readTree(nodes.out()).path("nodes");
            assertEquals(3, members.size());
            members.forEach(m -> assertEquals("up", m.path("status").asText()));

            Dist.Run table = Dist.smalti(Duration.ofSeconds(30), work, "nodes", "--state-dir", state.toString());
            assertTrue(table.out().startsWith("NAME"), table.out());

            // SIGKILL n2: cluster up, without options, starts it alone with the recorded ports and driver, and it
            // rejoins the ring; n1 and n3 keep running.
            ProcessHandle n2 = ProcessHandle.of(recorded.path("nodes").get(1).path("pid").asLong()).orElseThrow();
            n2.destroyForcibly();
            n2.onExit().get(30, TimeUnit.SECONDS);
            Dist.Run restart = Dist.smalti(Duration.ofMinutes(4), work, "cluster", "up", "--json", "--state-dir", state.toString());
            JsonNode after = Dist.JSON.readTree(state.resolve("cluster.json").toFile());
            after.path("nodes").forEach(n -> pids.add(n.path("pid").asLong()));
            assertEquals(0, restart.exit(), "cluster up of the killed node failed:\n" + restart.out() + restart.err());
            JsonNode back = Dist.JSON.readTree(restart.out());
            assertEquals("[\"n2\"]", back.path("started").toString(), restart.out());
            assertEquals("[\"n1\",\"n3\"]", back.path("alreadyRunning").toString(), restart.out());
            assertTrue(back.path("agreement").path("agreed").asBoolean(), restart.out());
            assertEquals(Set.of("n1", "n2", "n3"), Dist.counts(back).keySet(), "n2 owns vnodes again");
            for (int i : new int[] {0, 2}) {
                assertEquals(recorded.path("nodes").get(i).path("pid").asLong(), after.path("nodes").get(i).path("pid").asLong(),
                        "n" + (i + 1) + " was left running");
            }
            assertEquals(recorded.path("nodes").get(1).path("apiUrl"), after.path("nodes").get(1).path("apiUrl"));

            Dist.Run again = Dist.smalti(Duration.ofSeconds(30), work, "cluster", "up", "--state-dir", state.toString());
            assertEquals(0, again.exit(), again.err());
            assertTrue(again.out().contains("already run; nothing to start"), again.out());
            Dist.Run other = Dist.smalti(Duration.ofSeconds(30), work, "cluster", "up", "--nodes", "4", "--state-dir",
                    state.toString());
            assertEquals(1, other.exit());
            assertTrue(other.err().contains("--nodes 4 (it has 3)"), other.err());
        } finally {
            Dist.Run down = Dist.smalti(Duration.ofMinutes(3), work, "cluster", "down", "--state-dir", state.toString());
            assertEquals(0, down.exit(), "cluster down failed:\n" + down.out() + down.err());
        }
        for (long pid : pids) {
            Optional<ProcessHandle> p = ProcessHandle.of(pid);
            assertFalse(p.isPresent() && p.get().isAlive(), "node process " + pid + " is still running after down");
        }
        Dist.Run status = Dist.smalti(Duration.ofSeconds(30), work, "cluster", "status", "--json", "--state-dir", state.toString());
        Dist.JSON.readTree(status.out()).path("nodes").forEach(n -> assertFalse(n.path("running").asBoolean()));
        assertTrue(Files.exists(state.resolve("nodes/n1/data/ring.pb")), "each node stored the ring it applied");
    }

    @Test
    void errorsSayWhatFailedAndWhere() {
        int port = Dist.freePort("127.0.0.1");
        Dist.Run ring = Dist.smalti(Duration.ofSeconds(30), work, "ring", "--node", "http://127.0.0.1:" + port);
        assertEquals(1, ring.exit());
        assertTrue(ring.err().contains("cannot reach a node at http://127.0.0.1:" + port), ring.err());

        Dist.Run badSize = Dist.smalti(Duration.ofSeconds(30), work, "cluster", "up", "--ring-size", "100",
                "--state-dir", work.resolve("s").toString());
        assertEquals(1, badSize.exit());
        assertTrue(badSize.err().contains("--ring-size must be a power of two from 8 to 4096, got 100"), badSize.err());

        Dist.Run unknown = Dist.smalti(Duration.ofSeconds(30), work, "rnig");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("Unmatched argument") || unknown.err().contains("Unknown"), unknown.err());

        Dist.Run noCluster = Dist.smalti(Duration.ofSeconds(30), work, "cluster", "down", "--state-dir", work.resolve("none").toString());
        assertEquals(0, noCluster.exit());
        assertTrue(noCluster.out().contains("No local cluster"), noCluster.out());

        Dist.Run badNode = Dist.smalti(Duration.ofSeconds(60), work, "node", "start", "--data-dir",
                work.resolve("d").toString(), "--join", "nohostport");
        assertEquals(2, badNode.exit());
        assertTrue(badNode.err().contains("expected host:port, got 'nohostport'"), badNode.err());
    }
}
