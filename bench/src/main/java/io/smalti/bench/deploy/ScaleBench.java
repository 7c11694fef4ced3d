package io.smalti.bench.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.bench.OperatorTls;
import io.smalti.container.lxc.LxcDriver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Scaling a type on a local three-node cluster (lxc driver) from 0 to N instances and back: time until all are
 * available, create → available per instance (p50/p99, from each instance's history), the spread per node, the
 * machine's used memory (MemTotal − MemAvailable) at 0 and at N; then time until all are gone, and what was
 * left (containers, rootfs mounts). Anchor in the same run: N plain {@code lxc-start -d} of a busybox
 * container, one after the other, until each runs (what LXC alone costs here). Run by {@code bench/scale-bench};
 * one thread (main), blocking calls. The REST API is HTTPS with a client certificate: the driver and the CLI it runs
 * present the operator certificate {@code cluster up} made in the state directory ({@code state/operator}).
 */
public final class ScaleBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int NODES = 3;

    private final Path work;
    private final Path launcher;
    private final Path examples;
    private final int instances;
    private final boolean json;
    private final Path state;
    private final String api = "https://127.0.0.1:28380";
    /** The operator identity of the cluster {@code cluster up} made; the CLI runs get it as {@code SMALTI_CONFIG_DIR}. */
    private final Path operator;
    private HttpClient http;

    private ScaleBench(Path work, Path launcher, Path examples, int instances, boolean json) {
        this.work = work;
        this.launcher = launcher;
        this.examples = examples;
        this.instances = instances;
        this.json = json;
        this.state = work.resolve("state");
        this.operator = state.resolve("operator");
    }

    public static void main(String[] args) throws Exception {
        Path work = null;
        Path launcher = null;
        Path examples = null;
        int n = 100;
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--work" -> work = Path.of(args[++i]);
                case "--launcher" -> launcher = Path.of(args[++i]);
                case "--examples" -> examples = Path.of(args[++i]);
                case "--instances" -> n = Integer.parseInt(args[++i]);
                case "--json" -> json = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--instances N, --json; --work, --launcher, --examples are set by bench/scale-bench)");
            }
        }
        if (work == null || launcher == null || examples == null || n < 1 || n > 1000) {
            throw new IllegalArgumentException("--work, --launcher and --examples are required; --instances 1..1000");
        }
        new ScaleBench(work, launcher, examples, n, json).run();
    }

    private void run() throws Exception {
        ObjectNode report = JSON.createObjectNode();
        report.put("instances", instances).put("nodes", NODES).put("cpus", Runtime.getRuntime().availableProcessors());
        exec(Duration.ofMinutes(4), launcher.toString(), "cluster", "up", "--nodes", Integer.toString(NODES),
                "--driver", "lxc", "--bridge-prefix", "smsb-", "--subnet-prefix", "10.207", "--state-dir",
                state.toString(), "--cluster-port", "28355", "--api-port", "28380", "--hub-port", "28390");
        try {
            http = OperatorTls.http(operator);
            for (int i = 1; i <= NODES; i++) {
                Path trusted = data(i).resolve("trusted-keys");
                Files.createDirectories(trusted);
                Files.copy(examples.resolve("dev-key.pub"), trusted.resolve("examples.pub"));
            }
            awaitArchives();
            // Warm-up: one instance per node, so each node has fetched and extracted the bundle once.
            exec(Duration.ofMinutes(3), launcher.toString(), "deploy", examples.resolve("bundles/echo-0.1.0.tar.gz")
                    .toString(), "--count", Integer.toString(NODES), "--timeout", "150s", "--node", api);
            scale(0);
            awaitLive(0, Duration.ofMinutes(2));
            long usedAtZero = usedMemory();

            log("scaling echo from 0 to " + instances);
            long t0 = System.nanoTime();
            scale(instances);
            JsonNode all = awaitAvailable(instances, Duration.ofMinutes(10));
            double allAvailable = (System.nanoTime() - t0) / 1e9;
            long usedAtN = usedMemory();
            List<Double> createToAvailable = new ArrayList<>();
            Map<String, Integer> perNode = new TreeMap<>();
            for (JsonNode i : all.path("instances")) {
                if (!i.path("state").asText().equals("available")) {
                    continue;
                }
                perNode.merge(i.path("node").asText(), 1, Integer::sum);
                JsonNode h = get("/v1/instances/" + i.path("id").asText()).path("history");
                Instant created = Instant.parse(i.path("createdAt").asText());
                for (JsonNode c : h) {
                    if (c.path("state").asText().equals("available")) {
                        createToAvailable.add(Duration.between(created, Instant.parse(c.path("at").asText())).toNanos() / 1e6);
                        break;
                    }
                }
            }
            log("scaling echo to 0");
            long t1 = System.nanoTime();
            scale(0);
            awaitLive(0, Duration.ofMinutes(5));
            awaitNoContainers(Duration.ofMinutes(2));
            double allGone = (System.nanoTime() - t1) / 1e9;
            List<String> left = leftovers();
            double rawMs = rawLxcStart(Math.min(instances, 100));

            Collections.sort(createToAvailable);
            report.put("allAvailableSeconds", round(allAvailable));
            report.put("createToAvailableP50Ms", round(percentile(createToAvailable, 50)));
            report.put("createToAvailableP99Ms", round(percentile(createToAvailable, 99)));
            report.putPOJO("perNode", perNode);
            report.put("usedMemoryAtZeroMiB", usedAtZero >> 20).put("usedMemoryAtNMiB", usedAtN >> 20);
            report.put("allGoneSeconds", round(allGone));
            report.putPOJO("leftAfterScaleZero", left);
            report.put("plainLxcStartMedianMs", round(rawMs));
        } finally {
            exec(Duration.ofMinutes(5), launcher.toString(), "cluster", "down", "--state-dir", state.toString());
        }
        if (json) {
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
            return;
        }
        System.out.printf("%n%-44s %12s %12s%n", "scale echo 0 -> " + instances + " (" + NODES + " nodes, lxc)", "measured", "target");
        row("all available (s)", report.path("allAvailableSeconds").asDouble(), "<= 30");
        row("create -> available p50 (ms)", report.path("createToAvailableP50Ms").asDouble(), "<= 400");
        row("create -> available p99 (ms)", report.path("createToAvailableP99Ms").asDouble(), "");
        System.out.printf("%-44s %12s%n", "spread per node", report.path("perNode").toString());
        row("machine's used memory at 0 (MiB)", report.path("usedMemoryAtZeroMiB").asDouble(), "");
        row("machine's used memory at " + instances + " (MiB)", report.path("usedMemoryAtNMiB").asDouble(), "");
        row("scale 0: all gone (s)", report.path("allGoneSeconds").asDouble(), "");
        System.out.printf("%-44s %12s%n", "left after scale 0", report.path("leftAfterScaleZero").toString());
        row("anchor: plain lxc-start -d, median (ms)", report.path("plainLxcStartMedianMs").asDouble(), "");
    }

    private static void row(String name, double v, String target) {
        System.out.printf("%-44s %12.1f %12s%n", name, v, target);
    }

    private Path data(int node) {
        return state.resolve("nodes").resolve("n" + node).resolve("data");
    }

    private Path lxcPath(int node) {
        return LxcDriver.runDir(data(node).resolve("containers")).resolve("lxc");
    }

    /** Harnesses started before their node made its class-data archive start slower: wait for them. */
    private void awaitArchives() throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (int i = 1; i <= NODES; i++) {
            Path dir = data(i).resolve("harness-cds");
            while (System.nanoTime() < deadline) {
                if (Files.isDirectory(dir)) {
                    try (Stream<Path> s = Files.list(dir)) {
                        if (s.anyMatch(p -> p.toString().endsWith(".jsa"))) {
                            break;
                        }
                    }
                }
                Thread.sleep(500);
            }
        }
    }

    private void scale(int n) throws Exception {
        exec(Duration.ofSeconds(60), launcher.toString(), "scale", "echo", Integer.toString(n), "--node", api);
    }

    private JsonNode awaitAvailable(int n, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode now = getOrNull("/v1/instances?type=echo");
            if (now != null && count(now, "available") >= n) {
                return now;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(n + " echo instances not available within " + limit);
    }

    private void awaitLive(int n, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode now = getOrNull("/v1/instances?type=echo");
            if (now != null && live(now) == n) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("echo instances not down to " + n + " within " + limit);
    }

    private void awaitNoContainers(Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            boolean none = true;
            for (int i = 1; i <= NODES; i++) {
                none &= containers(lxcPath(i)).isEmpty();
            }
            if (none) {
                return;
            }
            Thread.sleep(200);
        }
    }

    private List<String> leftovers() throws IOException {
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= NODES; i++) {
            containers(lxcPath(i)).forEach(c -> out.add("container " + c));
            Path rootfs = lxcPath(i).getParent().resolve("rootfs");
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String m = line.split(" ")[4];
                if (m.startsWith(rootfs + "/")) {
                    out.add("mount " + m);
                }
            }
        }
        return out;
    }

    private static List<String> containers(Path lxcPath) throws IOException {
        if (!Files.isDirectory(lxcPath)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(lxcPath)) {
            return s.filter(p -> Files.exists(p.resolve("config"))).map(p -> p.getFileName().toString()).toList();
        }
    }

    /** Plain lxc-start -d of a busybox container with an empty network, one after the other; the median. */
    private double rawLxcStart(int n) throws Exception {
        Path raw = work.resolve("raw");
        Path lxc = raw.resolve("lxc");
        Path base = data(1).resolve("containers");
        Path rootfs;
        try (Stream<Path> s = Files.list(base)) {
            rootfs = s.filter(p -> p.getFileName().toString().startsWith("rootfs-v")
                    && !p.getFileName().toString().endsWith(".tmp")).findFirst().orElseThrow();
        }
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = "smsb-raw" + i;
            Path dir = lxc.resolve(name);
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config"), "lxc.uts.name = " + name + "\nlxc.rootfs.path = dir:" + rootfs
                    + "\nlxc.autodev = 1\nlxc.mount.auto = proc:mixed sys:ro cgroup:mixed:force\n"
                    + "lxc.net.0.type = empty\nlxc.init.cmd = /bin/sleep 3600\nlxc.console.path = none\n");
            long t0 = System.nanoTime();
            exec(Duration.ofSeconds(30), "lxc-start", "-d", "-P", lxc.toString(), "-n", name);
            ms.add((System.nanoTime() - t0) / 1e6);
            new ProcessBuilder("lxc-stop", "-k", "-P", lxc.toString(), "-n", name)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
        }
        Collections.sort(ms);
        return percentile(ms, 50);
    }

    private static long usedMemory() throws IOException {
        long total = 0;
        long available = 0;
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            String[] f = line.split("\\s+");
            if (f[0].equals("MemTotal:")) {
                total = Long.parseLong(f[1]) << 10;
            } else if (f[0].equals("MemAvailable:")) {
                available = Long.parseLong(f[1]) << 10;
            }
        }
        return total - available;
    }

    private static long count(JsonNode list, String state) {
        long n = 0;
        for (JsonNode i : list.path("instances")) {
            n += i.path("state").asText().equals(state) ? 1 : 0;
        }
        return n;
    }

    private static long live(JsonNode list) {
        long n = 0;
        for (JsonNode i : list.path("instances")) {
            String s = i.path("state").asText();
            n += s.equals("destroyed") || s.equals("failed") ? 0 : 1;
        }
        return n;
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(20))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    private JsonNode getOrNull(String path) {
        try {
            return get(path);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private void exec(Duration limit, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("SMALTI_CONFIG_DIR", operator.toString());
        Process p = pb.start();
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + ": no exit within " + limit);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + ": exit " + p.exitValue());
        }
    }

    private static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    private static double round(double d) {
        return Math.round(d * 10) / 10.0;
    }

    private static void log(String s) {
        System.err.println("==> " + s);
    }
}
