package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.smalti.bundle.BundleSignature;
import io.smalti.bundle.DeveloperKey;
import io.smalti.container.ContainerDrivers;
import io.smalti.container.lxc.LxcDriver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Deploying components end to end, in LXC containers: a three-node local cluster on the lxc driver, the
 * example bundles deployed through the CLI, each instance checked from the host (its own PID namespace,
 * its memory limit, what it can see), calls through the hub, malicious bundles refused, a node agent
 * SIGKILLed and its instances replaced, and at the end nothing left behind. Needs root and LXC; skips
 * with the reason otherwise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComponentsIT {
    private static final Path BUNDLES = Path.of("..", "examples", "target", "bundles").toAbsolutePath().normalize();
    private static final String BRIDGE_PREFIX = "smit-";
    /** The manifest's memory of the echo example. */
    private static final long ECHO_MEMORY = 192L << 20;

    private Path work;
    private Path state;
    private int apiPort;
    private final Map<String, Long> nodePids = new HashMap<>();
    /** Instance ids this test saw, for the leftover checks. */
    private final Set<String> seen = new HashSet<>();

    @BeforeAll
    void clusterUp() throws Exception {
        String why = ContainerDrivers.lxcUnavailableReason();
        Assumptions.assumeTrue(why == null, "LXC cannot run on this machine (" + why + "): the container tests are skipped");
        work = Files.createTempDirectory("components-it");
        state = work.resolve("state");
        int clusterPort = Dist.portFreeOnAll(3);
        apiPort = Dist.portFreeOnAll(3);
        int hubPort = Dist.portFreeOnAll(3);
        Dist.Run up = Dist.smalti(Duration.ofMinutes(4), work, "cluster", "up", "--nodes", "3", "--driver", "lxc",
                "--bridge-prefix", BRIDGE_PREFIX, "--subnet-prefix", "10.203", "--state-dir", state.toString(),
                "--cluster-port", Integer.toString(clusterPort), "--api-port", Integer.toString(apiPort),
                "--hub-port", Integer.toString(hubPort));
        Dist.useOperator(state.resolve("operator")); // cluster up made it, with the cluster CA
        Dist.JSON.readTree(state.resolve("cluster.json").toFile()).path("nodes")
                .forEach(n -> nodePids.put(n.path("name").asText(), n.path("pid").asLong()));
        assertEquals(0, up.exit(), "cluster up failed:\n" + up.out() + up.err());
        for (int i = 1; i <= 3; i++) {
            trustExampleKey(i);
        }
    }

    private void trustExampleKey(int node) throws IOException {
        Path trusted = dataDir(node).resolve("trusted-keys");
        Files.createDirectories(trusted);
        Files.copy(BUNDLES.getParent().resolve("dev-key.pub"), trusted.resolve("examples.pub"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @AfterAll
    void clusterDown() {
        if (work == null) {
            return;
        }
        Dist.smalti(Duration.ofMinutes(2), work, "cluster", "down", "--state-dir", state.toString());
        nodePids.values().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        // A failed run must not leave containers, mounts or bridges on the machine either.
        for (int i = 1; i <= 3; i++) {
            Path lxcPath = lxcPath(i);
            for (String c : lxcContainers(lxcPath)) {
                run("lxc-stop", "-P", lxcPath.toString(), "-n", c, "-k");
                run("lxc-destroy", "-P", lxcPath.toString(), "-n", c);
            }
        }
        for (int i = 1; i <= 3; i++) {
            for (String m : mountsUnder(LxcDriver.runDir(dataDir(i).resolve("containers")))) {
                run("umount", "-l", m);
            }
        }
        for (String m : mountsUnder(work)) {
            run("umount", "-l", m);
        }
        for (int i = 1; i <= 3; i++) {
            if (Files.exists(Path.of("/sys/class/net", BRIDGE_PREFIX + "n" + i))) {
                run("ip", "link", "del", BRIDGE_PREFIX + "n" + i);
            }
        }
    }

    private String api(int node) {
        return "https://127.0.0." + node + ":" + apiPort;
    }

    private Path dataDir(int node) {
        return state.resolve("nodes").resolve("n" + node).resolve("data");
    }

    /** Where node {@code node}'s lxc driver keeps its containers' configs (a passable runtime directory). */
    private Path lxcPath(int node) {
        return LxcDriver.runDir(dataDir(node).resolve("containers")).resolve("lxc");
    }

    @Test
    @Order(1)
    void deployedInstancesRunIsolatedInContainersAndAnswerThroughTheHub() throws Exception {
        Dist.Run deploy = Dist.smalti(Duration.ofMinutes(3), work, "deploy", BUNDLES.resolve("echo-0.1.0.tar.gz").toString(),
                "--count", "3", "--timeout", "150s", "--json", "--node", api(1));
        assertEquals(0, deploy.exit(), "deploy failed:\n" + deploy.out() + deploy.err() + nodeLogs("echo"));
        JsonNode instances = Dist.JSON.readTree(deploy.out()).path("instances");
        assertEquals(3, instances.size(), deploy.out());
        Set<String> nodes = new HashSet<>();
        Map<String, Long> initPids = new HashMap<>();
        for (JsonNode i : instances) {
            String id = i.path("id").asText();
            seen.add(id);
            assertEquals("available", i.path("state").asText(), i.toString());
            assertEquals("lxc", i.path("driver").asText(), i.toString());
            nodes.add(i.path("node").asText());
            initPids.put(id, initPid(i));
        }
        assertEquals(Set.of("n1", "n2", "n3"), nodes, "the scheduler spreads one type over the nodes: " + instances);

        String ownPidNs = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        for (Map.Entry<String, Long> e : initPids.entrySet()) {
            long pid = e.getValue();
            // Its own PID namespace, in which the harness is PID 1.
            assertNotEquals(ownPidNs, Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "pid")).toString(),
                    "instance " + e.getKey() + " shares the host's PID namespace");
            assertTrue(Files.readString(Path.of("/proc", Long.toString(pid), "status")).lines()
                    .anyMatch(l -> l.startsWith("NSpid:") && l.trim().endsWith("\t1") || l.matches("NSpid:\\s+\\d+\\s+1")),
                    "the harness is not PID 1 inside instance " + e.getKey());
            // Unprivileged: its own user namespace, its root a mapped id of its node, never host root, and
            // only the usual pseudo-devices.
            String uidMap = Files.readString(Path.of("/proc", Long.toString(pid), "uid_map")).strip();
            assertTrue(uidMap.matches("0\\s+\\d+\\s+65536") && !uidMap.matches("0\\s+0\\s+.*"),
                    "uid_map of instance " + e.getKey() + ": " + uidMap);
            assertNotEquals(0, Files.getAttribute(Path.of("/proc", Long.toString(pid)), "unix:uid"),
                    "instance " + e.getKey() + " runs as host root");
            String devices = cgroupValue(pid, "devices", "devices.list");
            assertTrue(devices == null || !devices.contains("a *:* rwm"), "devices of " + e.getKey() + ": " + devices);
            // Its memory limit is the manifest's, in force in its cgroup; so is its CPU share (0.5 of a core),
            // once it has started.
            assertEquals(ECHO_MEMORY, memoryLimit(pid), "memory limit of instance " + e.getKey());
            Dist.await(Duration.ofSeconds(10), "the CPU quota of instance " + e.getKey(), () -> {
                try {
                    return "50000".equals(cgroupValue(pid, "cpu", "cpu.cfs_quota_us")) ? true : null;
                } catch (IOException x) {
                    return null;
                }
            });
            // It sees its own processes only: the harness and its component, both of this instance.
            List<String> visible = visibleProcesses(pid);
            assertEquals(2, visible.size(), "processes visible in instance " + e.getKey() + ": " + visible);
            for (String environ : visible) {
                // The harness (PID 1) has no SMALTI_COMPONENT; its component has its own instance id.
                assertTrue(!environ.contains("SMALTI_COMPONENT=") || environ.contains("SMALTI_COMPONENT=" + e.getKey()),
                        "instance " + e.getKey() + " sees a process of another instance: " + environ);
                for (String other : initPids.keySet()) {
                    if (!other.equals(e.getKey())) {
                        assertTrue(!environ.contains(other), "instance " + e.getKey() + " sees instance " + other);
                    }
                }
            }
        }

        // Calls reach every instance through the hub.
        Dist.Run call = Dist.smalti(Duration.ofSeconds(60), work, "call", "echo", "count", "--all", "--json", "--node", api(2));
        assertEquals(0, call.exit(), call.out() + call.err());
        Set<String> answered = new HashSet<>();
        Dist.JSON.readTree(call.out()).path("results").forEach(r -> answered.add(r.path("from").asText()));
        assertEquals(initPids.keySet(), answered, "every echo instance answers through the hub");

        // The harnesses run as the distribution sets them up: BoringSSL (from lib/native) for the hub connection.
        for (String id : initPids.keySet()) {
            String log = harnessLog(id);
            assertTrue(log.contains("TLS: BoringSSL"), "harness log of instance " + id + ":\n" + log);
        }
    }

    /** The harness log of an instance, from whichever node runs it. */
    private String harnessLog(String instance) throws IOException {
        for (int node = 1; node <= 3; node++) {
            Path log = dataDir(node).resolve("containers").resolve("instances").resolve(instance).resolve("harness.log");
            if (Files.exists(log)) {
                return Files.readString(log);
            }
        }
        return "(no harness.log for " + instance + ")";
    }

    /** The container's init (the harness) as the host sees it, from the driver's record of the instance. */
    private long initPid(JsonNode instance) throws IOException {
        int node = Integer.parseInt(instance.path("node").asText().substring(1));
        Path record = dataDir(node).resolve("containers").resolve("instances").resolve(instance.path("id").asText())
                .resolve("instance.json");
        JsonNode r = Dist.JSON.readTree(record.toFile());
        long pid = r.path("initPid").asLong(r.path("pid").asLong(0));
        assertTrue(pid > 0 && Files.exists(Path.of("/proc", Long.toString(pid))), "no running init in " + record + ": " + r);
        return pid;
    }

    private static long memoryLimit(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            String[] parts = line.split(":", 3);
            if (List.of(parts[1].split(",")).contains("memory")) {
                return Long.parseLong(Files.readString(Path.of("/sys/fs/cgroup/memory" + parts[2], "memory.limit_in_bytes")).trim());
            }
            if (parts[1].isEmpty() && Files.exists(Path.of("/sys/fs/cgroup" + parts[2], "memory.max"))) {
                return Long.parseLong(Files.readString(Path.of("/sys/fs/cgroup" + parts[2], "memory.max")).trim());
            }
        }
        throw new AssertionError("no memory cgroup for pid " + pid);
    }

    /** A cgroup v1 file of the process's cgroup in the hierarchy with {@code controller}. */
    private static String cgroupValue(long pid, String controller, String file) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            String[] parts = line.split(":", 3);
            if (List.of(parts[1].split(",")).contains(controller)) {
                return Files.readString(Path.of("/sys/fs/cgroup", parts[1], parts[2], file)).trim();
            }
        }
        return null;
    }

    /** The environments of the processes the container's own /proc shows. */
    private static List<String> visibleProcesses(long initPid) throws IOException {
        Path proc = Path.of("/proc", Long.toString(initPid), "root", "proc");
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(proc)) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    out.add(new String(Files.readAllBytes(p.resolve("environ")), StandardCharsets.UTF_8).replace('\0', ' '));
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    @Test
    @Order(2)
    void anInstanceFailingItsHealthCheckGoesUnavailableThenIsReplaced() throws Exception {
        // The echo example with a health check calling an operation it does not have: every check fails.
        Path dir = work.resolve("echo-sick");
        try (Stream<Path> files = Files.walk(BUNDLES.resolve("echo"))) {
            for (Path f : files.toList()) {
                Path to = dir.resolve(BUNDLES.resolve("echo").relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        String manifest = Files.readString(dir.resolve("bundle.json"));
        String sick = manifest.replace("\"name\": \"echo\"", "\"name\": \"echo-sick\"")
                .replace("\"groups\": [\"echo\"]", "\"groups\": [\"echo-sick\"],\n  \"health\": {\"call\": \"health\", \"intervalSeconds\": 2}");
        assertTrue(sick.contains("echo-sick") && sick.contains("intervalSeconds"), sick);
        Files.writeString(dir.resolve("bundle.json"), sick);
        Dist.Run build = Dist.smalti(Duration.ofSeconds(60), work, "bundle", "build", "--key",
                BUNDLES.getParent().resolve("dev-key").toString(), "--out", work.toString(), dir.toString());
        assertEquals(0, build.exit(), build.out() + build.err());
        Dist.Run deploy = Dist.smalti(Duration.ofMinutes(3), work, "deploy", work.resolve("echo-sick-0.1.0.tar.gz").toString(),
                "--count", "1", "--timeout", "150s", "--json", "--node", api(1));
        assertEquals(0, deploy.exit(), "deploy failed:\n" + deploy.out() + deploy.err() + nodeLogs("echo-sick"));
        String id = Dist.JSON.readTree(deploy.out()).path("instances").get(0).path("id").asText();
        seen.add(id);

        // The first failed check makes it unavailable, with the component's own error as the reason.
        JsonNode history = Dist.await(Duration.ofSeconds(30), "instance " + id + " unavailable", () -> {
            JsonNode i = getOrNull(api(2) + "/v1/instances/" + id);
            return i != null && historyHas(i, "unavailable", "unknown operation health") ? i : null;
        });
        // The third in a row fails it; the scaler starts another.
        JsonNode replaced = Dist.await(Duration.ofSeconds(60), "instance " + id + " failed and replaced", () -> {
            JsonNode now = getOrNull(api(1) + "/v1/instances?type=echo-sick");
            if (now == null) {
                return null;
            }
            now.path("instances").forEach(i -> seen.add(i.path("id").asText()));
            boolean failed = count(now, i -> i.path("id").asText().equals(id) && i.path("state").asText().equals("failed")
                    && i.path("reason").asText().contains("(3 in a row)")) == 1;
            return failed && count(now, i -> !i.path("id").asText().equals(id) && !i.path("state").asText().equals("failed")) >= 1
                    ? now : null;
        });
        System.out.println("ComponentsIT: an instance failing its health check: " + history.path("history") + "; then " + replaced);
        // Its hub session ended with its container (not when the vanished connection times out): its group
        // no longer lists it.
        Dist.await(Duration.ofSeconds(5), "the failed instance gone from its group", () -> {
            JsonNode g = getOrNull(api(1) + "/v1/groups/echo-sick");
            if (g == null) {
                return null;
            }
            for (JsonNode m : g.path("members")) {
                if (m.path("component").asText().equals(id)) {
                    return null;
                }
            }
            return true;
        });

        destroyType("echo-sick");
    }

    /** Destroys every instance of a type through the CLI and waits until none is left running. */
    private void destroyType(String type) {
        Dist.Run destroy = Dist.smalti(Duration.ofSeconds(60), work, "destroy", "--type", type, "--node", api(1));
        assertEquals(0, destroy.exit(), destroy.out() + destroy.err());
        Dist.await(Duration.ofSeconds(60), "every " + type + " instance destroyed", () -> {
            JsonNode now = getOrNull(api(1) + "/v1/instances?type=" + type);
            if (now == null) {
                return null;
            }
            now.path("instances").forEach(i -> seen.add(i.path("id").asText()));
            return count(now, i -> !i.path("state").asText().equals("destroyed") && !i.path("state").asText().equals("failed")) == 0
                    ? now : null;
        });
    }

    private static boolean historyHas(JsonNode instance, String state, String reasonPart) {
        for (JsonNode h : instance.path("history")) {
            if (h.path("state").asText().equals(state) && h.path("reason").asText().contains(reasonPart)) {
                return true;
            }
        }
        return false;
    }

    @Test
    @Order(3)
    void maliciousBundlesAreRefusedAndWriteNothing() throws Exception {
        DeveloperKey key = DeveloperKey.load(BUNDLES.getParent().resolve("dev-key"));
        Path bundleCache = dataDir(1).resolve("bundles");
        Set<Path> before = listing(dataDir(1));
        String manifest = "{\"name\":\"evil\",\"version\":\"1\",\"run\":{\"command\":[\"/bin/true\"]}}";
        Map<String, byte[]> cases = new java.util.LinkedHashMap<>();
        cases.put("../evil-" + apiPort, tar(manifest, "../evil-" + apiPort, TarArchiveEntry.LF_NORMAL, null));
        cases.put("/tmp/evil-" + apiPort, tar(manifest, "/tmp/evil-" + apiPort, TarArchiveEntry.LF_NORMAL, null));
        cases.put("link", tar(manifest, "link", TarArchiveEntry.LF_SYMLINK, "/etc"));
        cases.put("dev", tar(manifest, "dev", TarArchiveEntry.LF_CHR, null));
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            byte[] archive = c.getValue();
            HttpResponse<String> r = push(archive, BundleSignature.sign(archive, key).toJson());
            assertEquals(400, r.statusCode(), "bundle with entry " + c.getKey() + " accepted: " + r.body());
            assertTrue(r.body().contains(c.getKey().replace("../", "").replace("/tmp/", "")),
                    "the error does not name the entry " + c.getKey() + ": " + r.body());
        }
        // A signature that does not match (the archive was changed after signing) is refused too.
        byte[] good = Files.readAllBytes(BUNDLES.resolve("pong-0.1.0.tar.gz"));
        byte[] tampered = good.clone();
        tampered[tampered.length / 2] ^= 1;
        HttpResponse<String> r = push(tampered, Files.readAllBytes(BUNDLES.resolve("pong-0.1.0.sig")));
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(r.body().contains("digest"), r.body());
        assertTrue(!Files.exists(Path.of("/tmp/evil-" + apiPort)) && !Files.exists(dataDir(1).getParent().resolve("evil-" + apiPort))
                && !Files.exists(bundleCache.getParent().resolve("evil-" + apiPort)), "a refused bundle wrote outside its directory");
        assertEquals(before, listing(dataDir(1)), "refused bundles left files in the node's data directory");
    }

    @Test
    @Order(3)
    void aBundleMountingAHostPathOutsideTheAllowListIsRefusedAtDeploy() throws Exception {
        DeveloperKey key = DeveloperKey.load(BUNDLES.getParent().resolve("dev-key"));
        // Another node's data directory (its keys, its journal) and /etc: neither is in the default allow-list.
        for (String host : List.of(dataDir(2).toString(), "/etc")) {
            String manifest = "{\"name\":\"thief\",\"version\":\"" + Math.abs(host.hashCode()) + "\","
                    + "\"run\":{\"command\":[\"/bin/true\"]},\"mounts\":[{\"host\":\"" + host
                    + "\",\"path\":\"/loot\"}]}";
            byte[] archive = tar(manifest, "hello.txt", TarArchiveEntry.LF_NORMAL, null);
            HttpResponse<String> pushed = push(archive, BundleSignature.sign(archive, key).toJson());
            assertTrue(pushed.statusCode() == 201 || pushed.statusCode() == 200, pushed.body());
            String digest = Dist.JSON.readTree(pushed.body()).path("digest").asText();
            HttpResponse<String> r = Dist.http().send(HttpRequest.newBuilder(URI.create(api(1) + "/v1/types"))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"bundle\":\"" + digest + "\",\"count\":1}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), "a bundle mounting " + host + " was registered: " + r.body());
            assertTrue(r.body().contains(host) && r.body().contains("allowed"), r.body());
        }
    }

    /** The files of a node's data directory but its journal and its containers (which change by themselves). */
    private Set<Path> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("journal") && !p.startsWith(dir.resolve("containers")))
                    .collect(java.util.stream.Collectors.toSet());
        }
    }

    private HttpResponse<String> push(byte[] archive, byte[] signature) throws Exception {
        return Dist.http().send(HttpRequest.newBuilder(URI.create(api(1) + "/v1/bundles")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/octet-stream")
                .header("Smalti-Signature", Base64.getEncoder().encodeToString(signature))
                .POST(HttpRequest.BodyPublishers.ofByteArray(archive)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A gzipped tar with a manifest and one more entry of the given type. */
    private static byte[] tar(String manifest, String name, byte type, String linkTarget) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            byte[] m = manifest.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry("bundle.json");
            e.setSize(m.length);
            tar.putArchiveEntry(e);
            tar.write(m);
            tar.closeArchiveEntry();
            TarArchiveEntry evil = new TarArchiveEntry(name, type, name.startsWith("/"));
            if (linkTarget != null) {
                evil.setLinkName(linkTarget);
            }
            byte[] body = type == TarArchiveEntry.LF_NORMAL ? "pwned\n".getBytes(StandardCharsets.UTF_8) : new byte[0];
            evil.setSize(body.length);
            tar.putArchiveEntry(evil);
            tar.write(body);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    @Test
    @Order(4)
    void instancesOfAKilledNodeAreReplacedOnTheOthers() throws Exception {
        JsonNode before = Dist.getJson(api(1) + "/v1/instances?type=echo");
        String victimNode = "n3";
        long victims = count(before, i -> i.path("node").asText().equals(victimNode) && i.path("state").asText().equals("available"));
        assertTrue(victims >= 1, "no echo instance on " + victimNode + ": " + before);
        long t0 = System.nanoTime();
        ProcessHandle.of(nodePids.get(victimNode)).orElseThrow().destroyForcibly();
        JsonNode after = Dist.await(Duration.ofSeconds(60), "three echo instances available on n1 and n2", () -> {
            JsonNode now = getOrNull(api(1) + "/v1/instances?type=echo");
            return now != null && count(now, i -> !i.path("node").asText().equals(victimNode)
                    && i.path("state").asText().equals("available")) == 3 ? now : null;
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("ComponentsIT: SIGKILL of node %s -> its %d instance(s) available again elsewhere after %.1f s%n",
                victimNode, victims, seconds);
        after.path("instances").forEach(i -> seen.add(i.path("id").asText()));
        assertTrue(count(after, i -> i.path("node").asText().equals(victimNode) && i.path("state").asText().equals("failed")
                && i.path("reason").asText().contains("lost")) >= victims, "the lost instances are marked failed: " + after);
        assertTrue(seconds < 40, "replacement took " + seconds + " s (target 15 s)");

        // The node comes back: it destroys the containers its earlier run left (they were replaced).
        Path lxcPath = lxcPath(3);
        assertTrue(!lxcContainers(lxcPath).isEmpty(), "the killed agent's containers should still be there");
        Path log = state.resolve("nodes").resolve("n3").resolve("node.log");
        Process again = new ProcessBuilder(Dist.launcher().toString(), "node", "start", "--config",
                state.resolve("nodes").resolve("n3").resolve("node.conf").toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectErrorStream(true).start();
        nodePids.put(victimNode, again.pid());
        Dist.await(Duration.ofSeconds(90), "the restarted n3 destroying its leftover containers", () ->
                lxcContainers(lxcPath).isEmpty() ? Boolean.TRUE : null);
    }

    @Test
    @Order(5)
    void thirtyInstancesOnThreeNodesBecomeAvailableSpreadEvenlyAndScaleZeroRemovesThemAll() throws Exception {
        // n3 runs again (the previous test restarted it): wait until it takes instances.
        Dist.await(Duration.ofSeconds(60), "n3 available again", () -> {
            JsonNode nodes = getOrNull(api(1) + "/v1/nodes");
            if (nodes == null) {
                return null;
            }
            for (JsonNode n : nodes.path("nodes")) {
                if (n.path("name").asText().equals("n3") && n.path("state").asText().equals("available")) {
                    return true;
                }
            }
            return null;
        });
        // From the 3 echo instances of the earlier tests (on n1 and n2 since n3 was killed) to 30.
        long t0 = System.nanoTime();
        Dist.Run scale = Dist.smalti(Duration.ofSeconds(30), work, "scale", "echo", "30", "--node", api(1));
        assertEquals(0, scale.exit(), scale.out() + scale.err());
        JsonNode all = Dist.await(Duration.ofSeconds(240), "30 echo instances available", () -> {
            JsonNode now = getOrNull(api(1) + "/v1/instances?type=echo");
            return now != null && count(now, i -> i.path("state").asText().equals("available")) == 30 ? now : null;
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Integer> perNode = new java.util.TreeMap<>();
        all.path("instances").forEach(i -> {
            seen.add(i.path("id").asText());
            if (i.path("state").asText().equals("available")) {
                perNode.merge(i.path("node").asText(), 1, Integer::sum);
            }
        });
        System.out.printf("ComponentsIT: 30 echo instances available after %.1f s, per node %s%n", seconds, perNode);
        assertEquals(Set.of("n1", "n2", "n3"), perNode.keySet(), "spread: " + perNode);
        int most = perNode.values().stream().max(Integer::compare).orElseThrow();
        int fewest = perNode.values().stream().min(Integer::compare).orElseThrow();
        assertTrue(most - fewest <= 1, "30 instances are spread within +-1 per node: " + perNode);
        // n3 was SIGKILLed and started again: its new instances, like the others, are members of their group
        // within 5 s of being available, and a group call reaches every one.
        Set<String> available = new HashSet<>();
        all.path("instances").forEach(i -> {
            if (i.path("state").asText().equals("available")) {
                available.add(i.path("id").asText());
            }
        });
        Dist.await(Duration.ofSeconds(5), "every available echo instance a member of group echo", () -> {
            JsonNode g = getOrNull(api(3) + "/v1/groups/echo");
            if (g == null) {
                return null;
            }
            Set<String> members = new HashSet<>();
            g.path("members").forEach(m -> members.add(m.path("component").asText()));
            return members.containsAll(available) ? true : null;
        });
        // A sender's hub reuses a group's member list for group-cache-ttl (500 ms): members that joined within
        // it are reached by the next call (seen: 28 of 30 on the first).
        Set<String> answered = new HashSet<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!answered.equals(available) && System.nanoTime() < deadline) {
            Dist.Run call = Dist.smalti(Duration.ofSeconds(60), work, "call", "echo", "count", "--all", "--json",
                    "--node", api(3));
            assertEquals(0, call.exit(), call.out() + call.err());
            answered.clear();
            Dist.JSON.readTree(call.out()).path("results").forEach(r -> answered.add(r.path("from").asText()));
        }
        assertEquals(available, answered, "a group call reaches every available echo instance");

        Dist.Run zero = Dist.smalti(Duration.ofSeconds(30), work, "scale", "echo", "0", "--node", api(1));
        assertEquals(0, zero.exit(), zero.out() + zero.err());
        for (int i = 1; i <= 3; i++) {
            Path lxcPath = lxcPath(i);
            int node = i;
            Dist.await(Duration.ofSeconds(90), "no echo container left on n" + i, () ->
                    lxcContainers(lxcPath).isEmpty() && instanceDirs(node).isEmpty() ? Boolean.TRUE : null);
            assertEquals(List.of(), mountsUnder(LxcDriver.runDir(dataDir(i).resolve("containers")).resolve("rootfs")),
                    "mounts left on n" + i);
        }
        JsonNode after = Dist.getJson(api(1) + "/v1/instances?type=echo");
        assertEquals(0, count(after, i -> !i.path("state").asText().equals("destroyed")
                && !i.path("state").asText().equals("failed")), "live echo instances after scale 0: " + after);
    }

    @Test
    @Order(6)
    void clusterDownRightAfterANodeKillAndInTheMiddleOfAScaleUpLeavesNothingBehind() throws Exception {
        Dist.Run six = Dist.smalti(Duration.ofSeconds(30), work, "scale", "echo", "6", "--node", api(1));
        assertEquals(0, six.exit(), six.out() + six.err());
        Dist.await(Duration.ofSeconds(120), "6 echo instances available", () -> {
            JsonNode now = getOrNull(api(1) + "/v1/instances?type=echo");
            return now != null && count(now, i -> i.path("state").asText().equals("available")) == 6 ? now : null;
        }).path("instances").forEach(i -> seen.add(i.path("id").asText()));
        // n2 dies with its containers running; a scale-up is under way when every node is told to stop.
        ProcessHandle.of(nodePids.get("n2")).orElseThrow().destroyForcibly();
        ProcessHandle.of(nodePids.get("n2")).orElseThrow().onExit().join();
        assertTrue(!lxcContainers(lxcPath(2)).isEmpty(), "the killed n2's containers should still be there");
        // Right after the kill a ring write may wait for n2 past the CLI's 5 s: try again, as an operator would.
        Dist.await(Duration.ofSeconds(30), "scale echo 12 accepted", () -> {
            Dist.Run twelve = Dist.smalti(Duration.ofSeconds(30), work, "scale", "echo", "12", "--node", api(1));
            return twelve.exit() == 0 ? true : null;
        });
        Dist.Run down = Dist.smalti(Duration.ofMinutes(4), work, "cluster", "down", "--state-dir", state.toString());
        assertEquals(0, down.exit(), down.out() + down.err());
        JsonNode after = getOrNull(api(3) + "/v1/instances?type=echo");
        if (after != null) { // n3 (restarted by an earlier test, outside `cluster up`) still answers
            after.path("instances").forEach(i -> seen.add(i.path("id").asText()));
        }
        // n3 was restarted by this test, outside `cluster up`: stop it the same way (SIGTERM).
        for (long pid : nodePids.values()) {
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroy();
                h.onExit().orTimeout(90, java.util.concurrent.TimeUnit.SECONDS).join();
            });
        }
        List<String> left = new ArrayList<>();
        left.addAll(mountsUnder(work));
        for (int i = 1; i <= 3; i++) {
            lxcContainers(lxcPath(i)).forEach(c -> left.add("container " + c));
            String monitorOf = "[lxc monitor] " + lxcPath(i) + " ";
            ProcessHandle.allProcesses().filter(h -> cmdline(h.pid()).startsWith(monitorOf))
                    .forEach(h -> left.add("process " + h.pid() + " " + cmdline(h.pid())));
        }
        for (int i = 1; i <= 3; i++) {
            Path run = LxcDriver.runDir(dataDir(i).resolve("containers"));
            left.addAll(mountsUnder(run));
            if (Files.exists(run)) {
                left.add("runtime directory " + run);
            }
        }
        for (String id : seen) {
            String suffix = id.substring(id.length() - 12);
            if (Files.exists(Path.of("/sys/class/net", "smv" + suffix))) {
                left.add("veth smv" + suffix);
            }
            left.addAll(cgroupDirs("smalti-" + suffix));
        }
        for (int i = 1; i <= 3; i++) {
            if (Files.exists(Path.of("/sys/class/net", BRIDGE_PREFIX + "n" + i))) {
                left.add("bridge " + BRIDGE_PREFIX + "n" + i);
            }
        }
        assertEquals(List.of(), left, "left behind after destroying everything and stopping the cluster");
    }

    private List<String> instanceDirs(int node) {
        Path dir = dataDir(node).resolve("containers").resolve("instances");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<String> cgroupDirs(String containerName) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                try (Stream<Path> s = Files.find(h, 6, (p, a) -> a.isDirectory() && p.getFileName() != null
                        && p.getFileName().toString().contains(containerName))) {
                    s.forEach(p -> out.add("cgroup " + p));
                } catch (IOException | java.io.UncheckedIOException e) {
                    // a hierarchy changing under us
                }
            }
        }
        return out;
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static List<String> mountsUnder(Path dir) {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4])
                    .filter(m -> m.startsWith(dir.toString())).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<String> lxcContainers(Path lxcPath) {
        if (!Files.isDirectory(lxcPath)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(lxcPath)) {
            return s.filter(p -> Files.exists(p.resolve("config"))).map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long count(JsonNode instances, java.util.function.Predicate<JsonNode> p) {
        long n = 0;
        for (JsonNode i : instances.path("instances")) {
            if (p.test(i)) {
                n++;
            }
        }
        return n;
    }

    private static JsonNode getOrNull(String url) {
        try {
            return Dist.getJson(url);
        } catch (RuntimeException | AssertionError e) {
            return null;
        }
    }

    private String nodeLogs(String needle) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            try {
                Files.readAllLines(state.resolve("nodes").resolve("n" + i).resolve("node.log")).stream()
                        .filter(l -> l.contains("WARN") || l.contains("ERROR") || l.contains(needle))
                        .forEach(l -> b.append("\nn").append(l));
            } catch (IOException e) {
                b.append("\n(no log of n").append(i).append(")");
            }
        }
        return b.toString();
    }

    private static void run(String... cmd) {
        try {
            new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            // best effort clean-up
        }
    }
}
