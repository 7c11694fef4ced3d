package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalClusterTest {
    @TempDir
    Path dir;

    private LocalCluster started;

    @AfterEach
    void stopFakeNodes() {
        if (started != null) {
            LocalCluster.at(started.dir()).stop(Duration.ofSeconds(5));
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Stands in for bin/smalti: runs until signalled, with the node's --config on its command line, as a node would. */
    private Path fakeLauncher() throws Exception {
        Path launcher = dir.resolve("fake-smalti");
        Files.writeString(launcher, "#!/bin/sh\nwhile :; do sleep 1; done\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        return launcher;
    }

    private record Run(int exit, String out, String err) {}

    private static Run smalti(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Smalti.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void aPortSomethingElseListensOnIsReportedBeforeAnyNodeStarts() throws Exception {
        try (ServerSocket other = new ServerSocket()) {
            other.bind(new InetSocketAddress("127.0.0.1", 0));
            int busy = other.getLocalPort();
            int api = freePort();
            LocalCluster.Plan plan = new LocalCluster.Plan(1, 64, 3, busy, api, freePort(), false);
            assertEquals(List.of("127.0.0.1:" + busy), plan.addressesInUse());
            assertEquals(List.of(), new LocalCluster.Plan(2, 64, 3, busy - 1, api, freePort(), false)
                    .addressesInUse(List.of("n1")), "only the nodes asked about");
        }
        LocalCluster.Plan free = new LocalCluster.Plan(1, 64, 3, freePort(), freePort(), freePort(), false);
        assertEquals(List.of(), free.addressesInUse());
    }

    /** A process just started may not show the node's command line yet (its launcher has not exec'd). */
    private static LocalCluster awaitRunning(Path state, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        LocalCluster c = LocalCluster.at(state);
        while (c.running().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
            c = LocalCluster.at(state);
        }
        return c;
    }

    @Test
    void aKilledNodeIsStartedAgainWithItsRecordedConfigurationJoiningTheNodesThatRun() throws Exception {
        Path state = dir.resolve("state");
        LocalCluster.Plan plan = new LocalCluster.Plan(3, 128, 2, 17355, 17380, 17390, false,
                new LocalCluster.Containers("process", "dev-", "10.77"));
        started = LocalCluster.at(state);
        started.start(plan, fakeLauncher());
        LocalCluster.Node n2 = started.nodes().get(1);
        // Readable by the user who started it only: the state, each node's directory, data, configuration and log.
        for (Path d : List.of(state, state.resolve("nodes"), n2.dir(), n2.dataDir())) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
        }
        for (Path f : List.of(state.resolve(LocalCluster.STATE_FILE), n2.config(), n2.log())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
        String firstConfig = Files.readString(n2.config());
        assertTrue(firstConfig.contains("seeds = [\"127.0.0.1:17355\"]"), firstConfig);
        ProcessHandle killed = ProcessHandle.of(n2.pid()).orElseThrow();
        killed.destroyForcibly();
        killed.onExit().get(10, TimeUnit.SECONDS);

        LocalCluster again = LocalCluster.at(state);
        assertEquals(Optional.of(plan), again.plan(), "cluster.json records the layout");
        assertEquals(List.of("n1", "n3"), again.running().stream().map(LocalCluster.Node::name).toList());
        again.startMissing(List.of("n2"), fakeLauncher());

        LocalCluster after = awaitRunning(state, 3);
        assertEquals(List.of("n1", "n2", "n3"), after.running().stream().map(LocalCluster.Node::name).toList());
        assertEquals(started.nodes().get(0).pid(), after.nodes().get(0).pid(), "n1 is left alone");
        assertEquals(started.nodes().get(2).pid(), after.nodes().get(2).pid(), "n3 is left alone");
        assertNotEquals(n2.pid(), after.nodes().get(1).pid());
        // The same node: addresses, ports, ring and container settings; only its seeds are the nodes that run.
        String config = Files.readString(n2.config());
        assertEquals(firstConfig.replace("seeds = [\"127.0.0.1:17355\"]", "seeds = [\"127.0.0.1:17355\", \"127.0.0.1:17357\"]"),
                config);
        assertTrue(config.contains("port = 17356") && config.contains("api.port = 17381") && config.contains("driver = process")
                && config.contains("bridge = \"dev-n2\"") && config.contains("size = 128"), config);
    }

    @Test
    void upOnAClusterWhoseNodesAllRunSaysSoAndRefusesOtherOptions() throws Exception {
        Path state = dir.resolve("state");
        started = LocalCluster.at(state);
        started.start(new LocalCluster.Plan(3, 64, 3, 17455, 17480, 17490, false), fakeLauncher());
        awaitRunning(state, 3);

        Run r = smalti("cluster", "up", "--state-dir", state.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("All 3 nodes of the local cluster in " + state + " already run; nothing to start."), r.out());
        assertTrue(r.out().contains("n2    " + started.nodes().get(1).pid()), r.out());

        r = smalti("cluster", "up", "--state-dir", state.toString(), "--json", "--single-host", "--cluster-port", "17455");
        assertEquals(0, r.exit(), r.err());
        JsonNode json = ApiClient.JSON.readTree(r.out());
        assertEquals("[\"n1\",\"n2\",\"n3\"]", json.path("alreadyRunning").toString());
        assertEquals(0, json.path("started").size());

        r = smalti("cluster", "up", "--state-dir", state.toString(), "--nodes", "4", "--api-port", "7380");
        assertEquals(1, r.exit());
        assertEquals("smalti cluster up: nodes n1, n2, n3 run with other options than given: --nodes 4 (it has 3), "
                + "--api-port 7380 (it has 17480); run smalti cluster up without them to start the nodes that do not run, "
                + "or stop the cluster first with smalti cluster down (state in " + state + ")", r.err().strip());

        r = smalti("cluster", "up", "--state-dir", state.toString(), "--fresh");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("--fresh would delete the data of nodes that run (n1, n2, n3)"), r.err());
        assertTrue(Files.exists(state.resolve("cluster.json")), "nothing was deleted");
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
