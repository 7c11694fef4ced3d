package io.smalti.bench.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.bench.OperatorTls;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.io.IOException;
import java.security.SecureRandom;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Deployment benchmark, driven by {@code bench/deploy-bench}: per container driver a one-node agent (started
 * here, stopped here), the echo bundle pushed and registered with count 0, then
 * <ol>
 *   <li>create → available latency: scale to 1, 2, … N, one instance at a time; for each, the time from the
 *       scale request until the new instance is {@code available} (its harness has connected to the hub),
 *       polled through {@code GET /v1/instances?type=}; instances are kept running;</li>
 *   <li>memory with all N running, after a settling pause: PSS and RSS ({@code smaps_rollup}) of each
 *       instance's monitor ({@code [lxc monitor] <lxcpath> <name>}), harness (the container's init) and
 *       component (its descendants), and of the node agent, with N instances and before the first; the
 *       targets monitor ≤ 4 MiB, monitor + harness ≤ 32 MiB, node agent ≤ 200 MiB (for 50 instances), judged
 *       on the median; the harness's RssAnon and RssFile and the container's memory cgroup
 *       ({@code memory.usage_in_bytes}, {@code total_rss}, {@code total_cache});</li>
 *   <li>(lxc) the harness's idle RSS with other JVM options, in plain LXC containers on the host network
 *       connected to the same hub ({@code --harness-variants});</li>
 * </ol>
 * and, once, plain {@code lxc-start} of the same busybox root filesystem (a copy of the node's), with a
 * {@code /bin/sh} init (until RUNNING) and with a JVM that runs {@code java -version} and writes a marker.
 *
 * <p>Security is on as in production: the run's cluster credentials are made once with {@code smalti cluster init}
 * (CA, master key file, an operator certificate, under the work directory); each node agent gets a copy of the CA in
 * its data directory and the master key file, the driver calls the HTTPS API with the operator certificate, and each
 * plain harness of the variants gets a one-time hub token in its configuration.
 *
 * <p>Every process started here is recorded in the file named by {@code -Dsmalti.bench.pids}; containers
 * live in LXC paths under the work directory, which the script cleans up as well.
 */
public final class DeployBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Presents the run's operator certificate; set by {@link #credentials()} before any node is asked. */
    private static HttpClient http;

    private int instances = 50;
    private int memoryInstances = -1;
    private List<String> drivers = List.of("lxc", "process");
    private boolean json;
    private Path jsonOut;
    private int rawRuns = 50;
    private Path launcher = Path.of("bin/smalti");
    private Path examples = Path.of("examples/target");
    private Path work = Path.of("/tmp/smalti-deploy-bench");
    private String host = "127.0.0.9";
    private int basePort = 18355;
    private String subnet = "10.209.9.0/24";
    private double settleSeconds = 10;
    private List<List<String>> variants = new ArrayList<>();
    private int variantCopies = 3;
    private final ObjectNode report = JSON.createObjectNode();

    public static void main(String[] args) throws Exception {
        DeployBench b = new DeployBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--instances" -> b.instances = Integer.parseInt(args[++i]);
                case "--memory-instances" -> b.memoryInstances = Integer.parseInt(args[++i]);
                case "--drivers" -> b.drivers = Arrays.asList(args[++i].split(","));
                case "--json" -> b.json = true;
                case "--json-out" -> b.jsonOut = Path.of(args[++i]);
                case "--raw-runs" -> b.rawRuns = Integer.parseInt(args[++i]);
                case "--launcher" -> b.launcher = Path.of(args[++i]);
                case "--examples" -> b.examples = Path.of(args[++i]);
                case "--work" -> b.work = Path.of(args[++i]);
                case "--host" -> b.host = args[++i];
                case "--settle" -> b.settleSeconds = Double.parseDouble(args[++i]);
                // "-Xmx32m -XX:+UseSerialGC" ; repeatable; the default options are always measured first. A leading
                // "+" adds to the node's options ("+0": without their archive); NAME=VALUE words set the harness's environment
                case "--harness-variant" -> b.variants.add(List.of(args[++i].trim().split("\\s+")));
                case "--variant-copies" -> b.variantCopies = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (b.memoryInstances < 0) {
            b.memoryInstances = b.instances;
        }
        b.run();
    }

    private void run() throws Exception {
        Files.createDirectories(work);
        credentials();
        report.put("instances", instances).put("cpus", Runtime.getRuntime().availableProcessors())
                .put("date", Instant.now().toString()).put("loadavgBefore", loadavg());
        ObjectNode drv = report.putObject("drivers");
        Path baseRootfs = null;
        for (String d : drivers) {
            drv.set(d, driver(d));
            Path base = baseRootfs(work.resolve(d).resolve("b1/containers"));
            if (d.equals("lxc") && Files.isDirectory(base)) {
                baseRootfs = base;
            }
        }
        if (baseRootfs != null && rawRuns > 0) {
            report.set("rawLxc", rawLxc(baseRootfs));
        }
        report.put("loadavgAfter", loadavg());
        if (jsonOut != null) {
            Files.writeString(jsonOut, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        }
        if (json) {
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        } else {
            printTables();
        }
    }

    /** The run's cluster: CA in {@code work/credentials}, {@code work/master.key}, operator in {@code work/operator}. */
    private void credentials() throws Exception {
        exec(List.of(launcher.toString(), "cluster", "init", "--dir", work.resolve("credentials").toString(),
                "--master-key-file", work.resolve("master.key").toString(), "--operator-dir",
                work.resolve("operator").toString()), 120);
        http = OperatorTls.http(work.resolve("operator"));
    }

    // ---------------------------------------------------------------- one driver

    private ObjectNode driver(String driver) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        Path dir = work.resolve(driver);
        Path data = dir.resolve("b1");
        Files.createDirectories(data.resolve("trusted-keys"));
        Files.copy(examples.resolve("dev-key.pub"), data.resolve("trusted-keys/dev-key.pub"));
        // The node's copy of the cluster CA, where it looks by default (<data-dir>/credentials).
        Files.createDirectories(data.resolve("credentials"));
        for (String f : List.of("ca.pem", "ca-key.sealed", "master.params")) {
            Files.copy(work.resolve("credentials").resolve(f), data.resolve("credentials").resolve(f));
        }
        Path conf = dir.resolve("node.conf");
        int apiPort = basePort + 25;
        int hubPort = basePort + 35;
        Files.writeString(conf, """
                smalti.node { name = "b1", host = "%s", port = %d, api.port = %d, data-dir = "%s" }
                smalti.hub.port = %d
                smalti.components { driver = %s, subnet = "%s" }
                smalti.ring.size = 64
                smalti.credentials.master-key-file = "%s"
                """.formatted(host, basePort, apiPort, data, hubPort, driver, subnet, work.resolve("master.key")));
        String api = "https://" + host + ":" + apiPort;
        log("[" + driver + "] starting a node agent (" + api + ", data in " + data + ")");
        Process node = start(List.of(launcher.toString(), "node", "start", "--config", conf.toString()),
                dir.resolve("node.log"));
        String typeId = null;
        try {
            waitHealthy(api, node, 180);
            // Harnesses started before the node has made its class-data archive run without it: measure the
            // steady state.
            long archiveDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            boolean archive;
            while (!(archive = hasArchive(data.resolve("harness-cds"))) && System.nanoTime() < archiveDeadline) {
                Thread.sleep(200);
            }
            log("[" + driver + "] harness class-data archive " + (archive ? "ready" : "missing after 120 s"));
            // Push the echo bundle (retried: the ring may take a moment after /healthz answers).
            Path bundle = examples.resolve("bundles/echo-0.1.0.tar.gz");
            String sig = Base64.getEncoder().encodeToString(Files.readAllBytes(examples.resolve("bundles/echo-0.1.0.sig")));
            JsonNode pushed = retry(60, () -> send("POST", api + "/v1/bundles",
                    HttpRequest.BodyPublishers.ofFile(bundle), "application/octet-stream", Map.of("Smalti-Signature", sig)));
            String digest = pushed.path("digest").asText();
            JsonNode type = retry(30, () -> sendJson("POST", api + "/v1/types",
                    JSON.createObjectNode().put("bundle", digest).put("count", 0)));
            typeId = type.path("id").asText();
            log("[" + driver + "] bundle " + digest.substring(0, Math.min(16, digest.length())) + "…, type " + typeId);

            Optional<Mem> nodeIdle = mem(node.pid()); // the anchor: the node agent before any instance

            // 1. create → available, one at a time, kept running
            List<Double> client = new ArrayList<>();
            List<Double> server = new ArrayList<>();
            Map<String, List<Double>> phases = new LinkedHashMap<>();
            Set<String> seen = new HashSet<>();
            List<String> extra = new ArrayList<>();
            int failed = 0;
            int noPlacement = 0;
            for (int k = 1; k <= instances; k++) {
                // The instance this request placed: new, created at or after the request (same clock: one host).
                long requestMillis = System.currentTimeMillis();
                long t0 = System.nanoTime();
                sendJson("PUT", api + "/v1/types/" + typeId + "/scale", JSON.createObjectNode().put("count", k));
                JsonNode fresh = null;
                boolean placed = false;
                long deadline = t0 + TimeUnit.SECONDS.toNanos(90);
                String candidate = null;
                while (System.nanoTime() < deadline) {
                    if (candidate != null) {
                        // Once placed, only its own record is polled: listing the type reads every instance's
                        // records, and at 5 ms intervals that load on the node grew with k and slowed what it measured.
                        JsonNode i = get(api + "/v1/instances/" + candidate);
                        String state = i.path("state").asText();
                        if (state.equals("available")) {
                            fresh = i;
                            break;
                        }
                        if (state.equals("failed") || state.equals("destroyed")) {
                            seen.add(candidate);
                            candidate = null; // its replacement is the one to wait for
                        }
                        Thread.sleep(5);
                        continue;
                    }
                    for (JsonNode i : get(api + "/v1/instances?type=" + typeId).path("instances")) {
                        String id = i.path("id").asText();
                        if (seen.contains(id)) {
                            continue;
                        }
                        Optional<Instant> created = instant(i.path("createdAt").asText(null));
                        if (created.isPresent() && created.get().toEpochMilli() < requestMillis - 1) {
                            // Placed before this request: the controller placed one more than asked (seen under
                            // load); measured on the server side only, not as this request's latency.
                            if (i.path("state").asText().equals("available")) {
                                seen.add(id);
                                extra.add(id);
                                between(i.path("createdAt").asText(null), i.path("since").asText(null)).ifPresent(server::add);
                                history(api, id, phases);
                                log("[" + driver + "] " + id + ": placed before request " + k + " (an extra instance)");
                            }
                            continue;
                        }
                        placed = true;
                        if (i.path("state").asText().equals("available")) {
                            fresh = i;
                        } else if (candidate == null && !i.path("state").asText().equals("failed")) {
                            candidate = id;
                        }
                    }
                    if (fresh != null) {
                        break;
                    }
                    // Nothing placed for this request 3 s on, and an extra already fills the count: move on.
                    if (!placed && System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(3)
                            && availableCount(api, typeId) >= k) {
                        break;
                    }
                    Thread.sleep(5);
                }
                double ms = (System.nanoTime() - t0) / 1e6;
                if (fresh == null) {
                    if (!placed) {
                        noPlacement++;
                        log("[" + driver + "] request " + k + " placed nothing: " + availableCount(api, typeId)
                                + " instances are available already");
                    } else {
                        failed++;
                        log("[" + driver + "] instance " + k + " not available after 90 s");
                    }
                    continue;
                }
                String id = fresh.path("id").asText();
                seen.add(id);
                client.add(ms);
                Optional<Double> srv = between(fresh.path("createdAt").asText(null), fresh.path("since").asText(null));
                srv.ifPresent(server::add);
                history(api, id, phases);
                log("[" + driver + "] " + k + "/" + instances + ": " + id + " available after " + Math.round(ms) + " ms"
                        + srv.map(x -> " (server " + Math.round(x) + " ms)").orElse(""));
            }
            out.put("extraInstances", extra.size()).put("requestsWithoutPlacement", noPlacement);
            out.set("createToAvailableMs", stats(client));
            out.set("createdToAvailableServerMs", stats(server));
            ObjectNode ph = out.putObject("phasesMs");
            phases.forEach((k, v) -> ph.set(k, stats(v)));
            out.put("failed", failed).put("kept", "running");
            out.put("loadavgAfterCreate", loadavg());

            // 2. memory with the instances running
            int target = Math.min(memoryInstances, instances);
            if (target < instances) {
                sendJson("PUT", api + "/v1/types/" + typeId + "/scale", JSON.createObjectNode().put("count", target));
            }
            log("[" + driver + "] settling " + settleSeconds + " s, then reading memory of " + target + " instances");
            Thread.sleep((long) (settleSeconds * 1000));
            out.set("memory", memory(data, driver, node.pid(), nodeIdle));

            // 3. harness option variants (lxc only: plain containers on the host network, same hub)
            if (driver.equals("lxc")) {
                out.set("harnessVariants", variants(api, data));
            }
        } finally {
            if (typeId != null) {
                try {
                    log("[" + driver + "] destroying the type");
                    send("DELETE", api + "/v1/types/" + typeId, HttpRequest.BodyPublishers.noBody(), null, Map.of());
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                    while (System.nanoTime() < deadline && notEnded(api, typeId) > 0) {
                        Thread.sleep(200);
                    }
                } catch (Exception e) {
                    log("[" + driver + "] destroying the type: " + e);
                }
            }
            stop(node, 90);
        }
        return out;
    }

    private void history(String api, String id, Map<String, List<Double>> phases) {
        try {
            JsonNode h = get(api + "/v1/instances/" + id).path("history");
            for (int i = 0; i + 1 < h.size(); i++) {
                String key = h.get(i).path("state").asText() + "→" + h.get(i + 1).path("state").asText();
                between(h.get(i).path("at").asText(null), h.get(i + 1).path("at").asText(null))
                        .ifPresent(ms -> phases.computeIfAbsent(key, x -> new ArrayList<>()).add(ms));
            }
        } catch (Exception e) {
            // optional detail
        }
    }

    // ---------------------------------------------------------------- memory

    /**
     * Memory of the running instances, per instance: PSS and RSS of its monitor, harness (the container's
     * init, from the driver's instance record) and component (the harness's descendants); the node agent's
     * PSS and RSS now and before the first instance (the anchor). RSS detail of the harness and the
     * container's memory cgroup besides.
     */
    private ObjectNode memory(Path data, String driver, long nodePid, Optional<Mem> nodeIdle) throws IOException {
        Map<String, List<Double>> sizes = new LinkedHashMap<>(); // "monitorPss", "harnessRss", …
        List<Double> harnessAnon = new ArrayList<>();
        List<Double> harnessFile = new ArrayList<>();
        List<Double> usage = new ArrayList<>();
        List<Double> cgRss = new ArrayList<>();
        List<Double> cgCache = new ArrayList<>();
        ObjectNode m = JSON.createObjectNode();
        ArrayNode each = JSON.createArrayNode();
        Path lxcPath = io.smalti.container.lxc.LxcDriver.runDir(data.resolve("containers")).resolve("lxc");
        Map<String, Long> monitors = driver.equals("lxc") ? monitors() : Map.of();
        try (Stream<Path> dirs = Files.list(data.resolve("containers/instances"))) {
            for (Path d : dirs.sorted().toList()) {
                Path rec = d.resolve("instance.json");
                if (!Files.exists(rec)) {
                    continue;
                }
                JsonNode r = JSON.readTree(rec.toFile());
                long pid = r.has("initPid") ? r.get("initPid").asLong() : r.path("pid").asLong(-1);
                Map<String, Long> st = status(pid);
                Optional<Mem> harness = mem(pid);
                if (st.isEmpty() || harness.isEmpty()) {
                    continue;
                }
                String id = d.getFileName().toString();
                Mem component = descendants(pid).stream().map(c -> mem(c).orElse(Mem.NONE)).reduce(Mem.NONE, Mem::plus);
                ObjectNode e = each.addObject().put("id", id).put("harnessPid", pid);
                Mem total = harness.get().plus(component);
                add(sizes, "harness", harness.get());
                add(sizes, "component", component);
                if (driver.equals("lxc")) {
                    String name = "smalti-" + id.substring(id.length() - 12);
                    Optional<Long> monitor = monitor(monitors, lxcPath, name, pid);
                    Optional<Mem> mon = monitor.flatMap(DeployBench::mem);
                    if (mon.isPresent()) {
                        e.put("monitorPid", monitor.get()).put("monitorPssKiB", mon.get().pssKiB())
                                .put("monitorRssKiB", mon.get().rssKiB());
                        add(sizes, "monitor", mon.get());
                        add(sizes, "monitorHarness", mon.get().plus(harness.get()));
                        total = total.plus(mon.get());
                    } else {
                        log("[" + driver + "] no [lxc monitor] process for " + name + " in " + lxcPath);
                    }
                }
                add(sizes, "instance", total);
                e.put("harnessPssKiB", harness.get().pssKiB()).put("harnessRssKiB", harness.get().rssKiB())
                        .put("componentPssKiB", component.pssKiB()).put("componentRssKiB", component.rssKiB());
                harnessAnon.add(mib(st.getOrDefault("RssAnon", 0L) * 1024));
                harnessFile.add(mib((st.getOrDefault("RssFile", 0L) + st.getOrDefault("RssShmem", 0L)) * 1024));
                // The process driver has no container cgroup: its harness sits in the node's (shared) cgroup.
                memoryCgroup(pid).filter(cg -> driver.equals("lxc")).ifPresent(cg -> {
                    try {
                        usage.add(mib(Long.parseLong(Files.readString(cg.resolve("memory.usage_in_bytes")).trim())));
                        Map<String, Long> ms = keyValues(cg.resolve("memory.stat"));
                        cgRss.add(mib(ms.getOrDefault("total_rss", 0L)));
                        cgCache.add(mib(ms.getOrDefault("total_cache", 0L)));
                    } catch (IOException | RuntimeException ex) {
                        // not readable: left out
                    }
                });
            }
        }
        // The node agent: one process, one figure (stats of one, to print and judge like the others).
        mem(nodePid).ifPresent(n -> add(sizes, "nodeAgent", n));
        nodeIdle.ifPresent(n -> add(sizes, "nodeAgentIdle", n));
        m.put("instances", each.size()).put("nodeAgentPid", nodePid);
        m.put("monitorsFound", sizes.getOrDefault("monitorPss", List.of()).size());
        // monitorPssMiB, monitorRssMiB, harnessPssMiB, …, monitorHarnessPssMiB, instancePssMiB (all three)
        sizes.forEach((k, v) -> m.set(k + "MiB", stats(v)));
        m.set("harnessRssAnonMiB", stats(harnessAnon));
        m.set("harnessRssFileMiB", stats(harnessFile));
        if (!usage.isEmpty()) {
            m.set("cgroupUsageMiB", stats(usage));
            m.set("cgroupTotalRssMiB", stats(cgRss));
            m.set("cgroupTotalCacheMiB", stats(cgCache));
        }
        ObjectNode t = m.putObject("targets");
        target(t, "monitorPss", m.path("monitorPssMiB"), 4);
        target(t, "monitorHarnessPss", m.path("monitorHarnessPssMiB"), 32);
        target(t, "nodeAgentPss", m.path("nodeAgentPssMiB"), 200).put("forInstances", 50);
        m.set("perInstance", each);
        m.put("hostMemAvailableMiB", mib(keyValues(Path.of("/proc/meminfo")).getOrDefault("MemAvailable", 0L) * 1024));
        return m;
    }

    /** Proportional and resident set size of one process, KiB. */
    record Mem(long pssKiB, long rssKiB) {
        static final Mem NONE = new Mem(0, 0);

        Mem plus(Mem o) {
            return new Mem(pssKiB + o.pssKiB, rssKiB + o.rssKiB);
        }
    }

    /**
     * {@code Pss:} and {@code Rss:} of a process from {@code /proc/PID/smaps_rollup}, or summed over
     * {@code smaps} where the kernel has no rollup (before 4.14); empty when the process is gone.
     */
    static Optional<Mem> mem(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        Path file = Files.exists(proc.resolve("smaps_rollup")) ? proc.resolve("smaps_rollup") : proc.resolve("smaps");
        long pss = 0;
        long rss = 0;
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith("Pss:")) {
                    pss += Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                } else if (line.startsWith("Rss:")) {
                    rss += Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.of(new Mem(pss, rss));
    }

    private static void add(Map<String, List<Double>> sizes, String what, Mem m) {
        sizes.computeIfAbsent(what + "Pss", k -> new ArrayList<>()).add(mib(m.pssKiB() * 1024));
        sizes.computeIfAbsent(what + "Rss", k -> new ArrayList<>()).add(mib(m.rssKiB() * 1024));
    }

    /** A limit in MiB and whether the median and the maximum keep it. */
    private static ObjectNode target(ObjectNode targets, String name, JsonNode stats, int limitMiB) {
        ObjectNode t = targets.putObject(name).put("limitMiB", limitMiB);
        if (stats.path("n").asInt() > 0) {
            t.put("p50", stats.path("p50").asDouble()).put("max", stats.path("max").asDouble())
                    .put("pass", stats.path("p50").asDouble() <= limitMiB).put("maxPass", stats.path("max").asDouble() <= limitMiB);
        }
        return t;
    }

    /** The LXC monitors on this host by {@code "<lxcpath> <name>"}, from their {@code [lxc monitor] …} cmdline. */
    private static Map<String, Long> monitors() {
        Map<String, Long> out = new LinkedHashMap<>();
        ProcessHandle.allProcesses().forEach(p -> {
            String c = cmdlineText(p.pid());
            if (c.startsWith("[lxc monitor] ")) {
                out.put(c.substring("[lxc monitor] ".length()).trim(), p.pid());
            }
        });
        return out;
    }

    /**
     * The monitor of container {@code name} in {@code lxcPath}: the {@code [lxc monitor]} process that names
     * both, else the init's parent if its command line names the container (a monitor that kept its
     * command line, such as {@code lxc-start -F -n name}).
     */
    private static Optional<Long> monitor(Map<String, Long> monitors, Path lxcPath, String name, long initPid) {
        Set<String> paths = new HashSet<>(List.of(lxcPath.toAbsolutePath().normalize().toString()));
        try {
            paths.add(lxcPath.toRealPath().toString());
        } catch (IOException e) {
            // as named
        }
        for (Map.Entry<String, Long> e : monitors.entrySet()) {
            int sp = e.getKey().lastIndexOf(' ');
            if (sp > 0 && e.getKey().substring(sp + 1).equals(name)
                    && paths.contains(Path.of(e.getKey().substring(0, sp)).normalize().toString())) {
                return Optional.of(e.getValue());
            }
        }
        return ProcessHandle.of(initPid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid)
                .filter(pp -> Arrays.asList(cmdlineText(pp).split(" ")).contains(name));
    }

    private static String cmdlineText(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ').trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static Map<String, Long> status(long pid) {
        Map<String, Long> out = new LinkedHashMap<>();
        if (pid <= 0) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                int colon = line.indexOf(':');
                String[] v = line.substring(colon + 1).trim().split("\\s+");
                if (line.startsWith("Vm") || line.startsWith("Rss") || line.startsWith("Threads")) {
                    out.put(line.substring(0, colon), Long.parseLong(v[0]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return out;
    }

    private static List<Long> descendants(long pid) {
        List<Long> out = new ArrayList<>();
        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> out.add(d.pid())));
        return out;
    }

    private static Optional<Path> memoryCgroup(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length == 3 && Arrays.asList(f[1].split(",")).contains("memory")) {
                    Path p = Path.of("/sys/fs/cgroup/memory" + f[2]);
                    return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
                }
            }
        } catch (IOException e) {
            // gone
        }
        return Optional.empty();
    }

    private static Map<String, Long> keyValues(Path file) throws IOException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] f = line.replace(":", " ").trim().split("\\s+");
            if (f.length >= 2) {
                try {
                    out.put(f[0], Long.parseLong(f[1]));
                } catch (NumberFormatException ignored) {
                    // not a number
                }
            }
        }
        return out;
    }

    private static boolean hasArchive(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".jsa"));
        }
    }

    // ---------------------------------------------------------------- harness JVM option variants

    /** The lxc driver's base root filesystem in its state directory ({@code rootfs-v<version>[-<digest>]}). */
    private static Path baseRootfs(Path containers) throws IOException {
        if (!Files.isDirectory(containers)) {
            return containers.resolve("rootfs-v1");
        }
        try (Stream<Path> s = Files.list(containers)) {
            return s.filter(p -> p.getFileName().toString().startsWith("rootfs-v") && Files.isDirectory(p)).sorted()
                    .reduce((a, b) -> b).orElse(containers.resolve("rootfs-v1"));
        }
    }

    /**
     * Each variant runs {@code variantCopies} harnesses, each as the init of a plain LXC container (busybox copy,
     * host network, the node's mounts), with the echo component, connected to the node's hub; idle VmRSS after
     * the settling pause. The node's own containers stay running meanwhile (same machine state).
     */
    private ObjectNode variants(String api, Path data) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        JsonNode hub = get(api + "/v1/hub");
        String endpoint = hub.path("endpoint").asText(host + ":" + (basePort + 35));
        // The echo component as the node runs it: bundle root and command from a running instance.
        Path anyInstance;
        try (Stream<Path> s = Files.list(data.resolve("containers/instances"))) {
            anyInstance = s.filter(p -> Files.exists(p.resolve("instance.json"))).findFirst().orElseThrow();
        }
        JsonNode rec = JSON.readTree(anyInstance.resolve("instance.json").toFile());
        Path bundleRoot = Path.of(rec.path("bundleRoot").asText());
        long initPid = rec.path("initPid").asLong();
        List<String> harnessCmd = cmdline(initPid);
        List<String> componentCmd = descendants(initPid).stream().findFirst().map(DeployBench::cmdline).orElseThrow();
        int cp = harnessCmd.indexOf("-cp");
        String java = harnessCmd.get(0);
        String classpath = harnessCmd.get(cp + 1);
        List<String> defaults = harnessCmd.subList(1, cp);
        Path javaHome = Path.of(java).getParent().getParent();

        Path vdir = work.resolve("variants");
        Path lxcPath = vdir.resolve("lxc");
        Files.createDirectories(lxcPath);
        Path rootfs = vdir.resolve("rootfs");
        copyTree(baseRootfs(data.resolve("containers")), rootfs);
        Set<Path> mounts = new java.util.TreeSet<>();
        for (String m : List.of("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/java-17-openjdk")) {
            if (Files.isDirectory(Path.of(m)) && !Files.isSymbolicLink(Path.of(m))) {
                mounts.add(Path.of(m));
            }
        }
        mounts.add(javaHome);
        Arrays.stream(classpath.split(":")).map(p -> Path.of(p).getParent()).forEach(mounts::add);
        mounts.add(bundleRoot);

        // The node's options name its class-data archive: mount its directory too. The defaults are also run
        // without it, for comparison.
        for (String o : defaults) {
            if (o.startsWith("-XX:SharedArchiveFile=")) {
                mounts.add(Path.of(o.substring("-XX:SharedArchiveFile=".length())).getParent());
            }
        }
        List<List<String>> all = new ArrayList<>();
        all.add(defaults);
        List<String> withoutArchive = defaults.stream().filter(o -> !o.startsWith("-XX:SharedArchiveFile=")).toList();
        if (withoutArchive.size() < defaults.size()) {
            all.add(withoutArchive);
        }
        for (List<String> v : variants) {
            if (!v.isEmpty() && (v.get(0).equals("+") || v.get(0).equals("+0"))) { // +0: without the archive
                List<String> plus = new ArrayList<>(v.get(0).equals("+") ? defaults : withoutArchive);
                plus.addAll(v.subList(1, v.size()));
                all.add(plus);
            } else {
                all.add(v);
            }
        }
        int n = 0;
        for (List<String> opts : all) {
            String tag = "v" + (n++);
            log("[variants] " + tag + ": " + String.join(" ", opts));
            long t0 = System.nanoTime();
            List<Double> startups = new ArrayList<>();
            List<Long> pids = startHarnesses(api, lxcPath, rootfs, mounts, tag, variantCopies, java, opts, classpath, endpoint,
                    hub, componentCmd, bundleRoot, javaHome, vdir, startups);
            Thread.sleep((long) (settleSeconds * 1000));
            String nmt = null;
            if (opts.stream().anyMatch(o -> o.startsWith("-XX:NativeMemoryTracking")) && !pids.isEmpty()) {
                try {
                    nmt = exec(List.of(javaHome.resolve("bin/jcmd").toString(), Long.toString(pids.get(0)),
                            "VM.native_memory", "summary"), 60);
                    log(nmt);
                } catch (IOException e) {
                    nmt = e.getMessage();
                    log("[variants] jcmd: " + nmt);
                }
            }
            List<Double> rss = new ArrayList<>();
            List<Double> pss = new ArrayList<>();
            List<Double> threads = new ArrayList<>();
            List<Double> anon = new ArrayList<>();
            List<Double> file = new ArrayList<>();
            List<Double> comp = new ArrayList<>();
            for (long pid : pids) {
                Map<String, Long> st = status(pid);
                if (!st.isEmpty() && !descendants(pid).isEmpty()) { // its component runs: the harness is up
                    rss.add(mib(st.get("VmRSS") * 1024));
                    mem(pid).ifPresent(m -> pss.add(mib(m.pssKiB() * 1024)));
                    threads.add((double) st.getOrDefault("Threads", 0L));
                    anon.add(mib(st.getOrDefault("RssAnon", 0L) * 1024));
                    file.add(mib(st.getOrDefault("RssFile", 0L) * 1024));
                    comp.add(mib(descendants(pid).stream().mapToLong(c -> status(c).getOrDefault("VmRSS", 0L) * 1024).sum()));
                }
            }
            String logTail = tail(vdir.resolve(tag + "-0.log"));
            stopContainers(lxcPath, tag, variantCopies);
            ObjectNode v = out.putObject(String.join(" ", opts));
            v.put("running", rss.size()).set("harnessRssMiB", stats(rss));
            v.set("harnessPssMiB", stats(pss));
            v.set("harnessThreads", stats(threads));
            v.set("harnessRssAnonMiB", stats(anon));
            v.set("harnessRssFileMiB", stats(file));
            v.set("componentRssMiB", stats(comp));
            v.set("startToConnectedMs", stats(startups));
            if (nmt != null) {
                v.put("nativeMemoryTracking", nmt);
            }
            if (rss.isEmpty()) {
                v.put("logTail", logTail);
            }
            log("[variants] " + tag + ": harness PSS p50 " + stats(pss).path("p50").asDouble() + ", RSS "
                    + stats(rss).path("mean").asDouble() + " MiB (anon "
                    + stats(anon).path("mean").asDouble() + ", file " + stats(file).path("mean").asDouble() + "), "
                    + rss.size() + "/" + variantCopies + " up, start → connected p50 " + Math.round(percentile(startups, 50))
                    + " ms, " + Math.round((System.nanoTime() - t0) / 1e9) + " s");
        }
        return out;
    }

    private List<Long> startHarnesses(String api, Path lxcPath, Path rootfs, Set<Path> mounts, String tag, int copies, String java,
            List<String> opts, String classpath, String endpoint, JsonNode hub, List<String> componentCmd,
            Path bundleRoot, Path javaHome, Path vdir, List<Double> startups) throws Exception {
        List<Long> pids = new ArrayList<>();
        int colon = endpoint.lastIndexOf(':');
        for (int i = 0; i < copies; i++) {
            String name = "sdb-" + tag + "-" + i;
            ObjectNode config = JSON.createObjectNode();
            String component = Id.random(Category.INSTANCE, new SecureRandom()).toString();
            config.put("component", component);
            config.putObject("hub").put("host", endpoint.substring(0, colon))
                    .put("port", Integer.parseInt(endpoint.substring(colon + 1)))
                    .put("certificate", hub.path("certificate").asText())
                    .put("token", OperatorTls.hubToken(http, api, component)); // once, within 60 s: made right before
            componentCmd.forEach(config.putArray("command")::add);
            config.putObject("environment").put("PATH", javaHome.resolve("bin") + ":/usr/local/bin:/usr/bin:/bin");
            config.put("directory", bundleRoot.toString());
            config.put("socket", "/tmp/" + name + ".sock");
            config.put("graceMillis", 2000);
            Path cfgFile = vdir.resolve(name + ".json");
            Files.write(cfgFile, JSON.writeValueAsBytes(config));
            Path logFile = vdir.resolve(tag + "-" + i + ".log");
            StringBuilder cmd = new StringBuilder();
            opts.stream().filter(o -> o.matches("[A-Z_][A-Z0-9_]*=.*") && !o.startsWith("JAVA=")).forEach(o -> cmd.append("export ").append(o).append('\n'));
            // JAVA=/path/bin/java: another java (under a mounted directory, e.g. /usr/lib/jvm)
            cmd.append("exec ").append(opts.stream().filter(o -> o.startsWith("JAVA=")).map(o -> o.substring(5))
                    .reduce((a, b) -> b).orElse(java));
            opts.stream().filter(o -> !o.matches("[A-Z_][A-Z0-9_]*=.*")).forEach(o -> cmd.append(' ').append(o));
            cmd.append(" -cp ").append(classpath).append(" io.smalti.harness.HarnessMain < ").append(cfgFile)
                    .append(" >> ").append(logFile).append(" 2>&1\n");
            Files.writeString(rootfs.resolve(name + ".sh"), "#!/bin/sh\ncd " + bundleRoot + " || cd /\n" + cmd);
            writeConfig(lxcPath, name, rootfs, mounts, vdir, "none", "/bin/sh /" + name + ".sh");
            long t0 = System.nanoTime();
            exec(List.of("lxc-start", "-P", lxcPath.toString(), "-n", name, "-d"), 30);
            String pidText = exec(List.of("lxc-info", "-P", lxcPath.toString(), "-n", name, "-p", "-H"), 10).trim();
            long pid = pidText.isEmpty() ? -1L : Long.parseLong(pidText);
            pids.add(pid);
            // The harness starts its component once it has connected to the hub: that is "up".
            long deadline = t0 + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && descendants(pid).isEmpty() && ProcessHandle.of(pid).isPresent()) {
                Thread.sleep(5);
            }
            if (!descendants(pid).isEmpty()) {
                startups.add((System.nanoTime() - t0) / 1e6);
            }
        }
        return pids;
    }

    private void stopContainers(Path lxcPath, String tag, int copies) {
        for (int i = 0; i < copies; i++) {
            String name = "sdb-" + tag + "-" + i;
            try {
                exec(List.of("lxc-stop", "-P", lxcPath.toString(), "-n", name, "-t", "10"), 30);
            } catch (Exception e) {
                try {
                    exec(List.of("lxc-stop", "-P", lxcPath.toString(), "-n", name, "-k"), 30);
                } catch (Exception ignored) {
                    // reported by destroy
                }
            }
            try {
                deleteTree(lxcPath.resolve(name));
            } catch (IOException e) {
                log("cannot remove " + lxcPath.resolve(name) + ": " + e);
            }
        }
    }

    // ---------------------------------------------------------------- raw lxc-start

    private ObjectNode rawLxc(Path base) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        Path dir = work.resolve("raw");
        Path lxcPath = dir.resolve("lxc");
        Files.createDirectories(lxcPath);
        Path rootfs = dir.resolve("rootfs");
        copyTree(base, rootfs);
        Set<Path> mounts = new java.util.TreeSet<>();
        for (String m : List.of("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/java-17-openjdk")) {
            if (Files.isDirectory(Path.of(m)) && !Files.isSymbolicLink(Path.of(m))) {
                mounts.add(Path.of(m));
            }
        }
        Path javaHome = Path.of(ProcessHandle.current().info().command().orElseThrow()).toRealPath().getParent().getParent();
        if (!javaHome.startsWith("/usr/lib")) {
            mounts.add(javaHome);
        }
        String java = javaHome.resolve("bin/java").toString();
        Files.writeString(rootfs.resolve("sh-init.sh"), "#!/bin/sh\nexec sleep 3600\n");
        Files.writeString(rootfs.resolve("java-init.sh"), "#!/bin/sh\n" + java
                + " -Xshare:auto -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -version >/dev/null 2>&1 && echo ok > /tmp/marker-$1\n");
        List<Double> sh = new ArrayList<>();
        List<Double> jvm = new ArrayList<>();
        List<Double> jvmStartCmd = new ArrayList<>();
        for (int i = 0; i < rawRuns; i++) {
            // (a) /bin/sh init, until lxc-start -d returns (it waits for RUNNING), then checked
            String name = "sdb-raw-sh-" + i;
            writeConfig(lxcPath, name, rootfs, mounts, "empty", "/bin/sh /sh-init.sh");
            long t0 = System.nanoTime();
            exec(List.of("lxc-start", "-P", lxcPath.toString(), "-n", name, "-d"), 30);
            double ms = (System.nanoTime() - t0) / 1e6;
            String state = exec(List.of("lxc-info", "-P", lxcPath.toString(), "-n", name, "-s", "-H"), 10).trim();
            if (state.equals("RUNNING")) {
                sh.add(ms);
            } else {
                log("[raw] " + name + " is " + state);
            }
            stopQuietly(lxcPath, name);
            deleteTree(lxcPath.resolve(name));

            // (b) a JVM (java -version) writes a marker
            name = "sdb-raw-java-" + i;
            Path marker = rootfs.resolve("tmp/marker-" + i);
            Files.deleteIfExists(marker);
            writeConfig(lxcPath, name, rootfs, mounts, "empty", "/bin/sh /java-init.sh " + i);
            t0 = System.nanoTime();
            exec(List.of("lxc-start", "-P", lxcPath.toString(), "-n", name, "-d"), 30);
            jvmStartCmd.add((System.nanoTime() - t0) / 1e6);
            long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(marker) && System.nanoTime() < deadline) {
                Thread.sleep(0, 200_000);
            }
            ms = (System.nanoTime() - t0) / 1e6;
            if (Files.exists(marker)) {
                jvm.add(ms);
            } else {
                log("[raw] " + name + ": no marker after 30 s");
            }
            stopQuietly(lxcPath, name);
            deleteTree(lxcPath.resolve(name));
            if ((i + 1) % 10 == 0) {
                log("[raw] " + (i + 1) + "/" + rawRuns + ": sh p50 " + Math.round(percentile(sh, 50)) + " ms, java p50 "
                        + Math.round(percentile(jvm, 50)) + " ms");
            }
        }
        out.set("shInitRunningMs", stats(sh));
        out.set("javaVersionMarkerMs", stats(jvm));
        out.set("javaLxcStartReturnMs", stats(jvmStartCmd));
        // The same JVM on the host, for the container's share.
        List<Double> host = new ArrayList<>();
        for (int i = 0; i < Math.min(rawRuns, 20); i++) {
            long t0 = System.nanoTime();
            exec(List.of(java, "-Xshare:auto", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-version"), 30);
            host.add((System.nanoTime() - t0) / 1e6);
        }
        out.set("javaVersionHostMs", stats(host));
        return out;
    }

    /** A plain container: the LXC-NOTES minimal config plus the node's read-only mounts. */
    private static void writeConfig(Path lxcPath, String name, Path rootfs, Set<Path> mounts, String net, String init)
            throws IOException {
        writeConfig(lxcPath, name, rootfs, mounts, null, net, init);
    }

    private static void writeConfig(Path lxcPath, String name, Path rootfs, Set<Path> mounts, Path writable, String net,
            String init) throws IOException {
        Path dir = lxcPath.resolve(name);
        Files.createDirectories(dir);
        StringBuilder c = new StringBuilder();
        c.append("lxc.uts.name = ").append(name).append('\n')
                .append("lxc.rootfs.path = dir:").append(rootfs).append('\n')
                .append("lxc.autodev = 1\n")
                .append("lxc.mount.auto = proc:mixed sys:ro cgroup:mixed:force\n")
                .append("lxc.net.0.type = ").append(net).append('\n')
                .append("lxc.init.cmd = ").append(init).append('\n')
                .append("lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp\n")
                .append("lxc.cgroup.relative = 1\n")
                .append("lxc.signal.halt = SIGTERM\n")
                .append("lxc.console.path = none\n")
                .append("lxc.log.file = ").append(dir.resolve("lxc.log")).append('\n')
                .append("lxc.log.level = WARN\n");
        for (Path m : mounts) {
            String rel = m.toString().substring(1);
            c.append("lxc.mount.entry = ").append(m).append(' ').append(rel).append(" none ro,bind,create=dir 0 0\n");
        }
        if (writable != null) {
            c.append("lxc.mount.entry = ").append(writable).append(' ').append(writable.toString().substring(1))
                    .append(" none bind,create=dir 0 0\n");
        }
        Files.writeString(dir.resolve("config"), c.toString());
    }

    // ---------------------------------------------------------------- output

    private void printTables() {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%d CPUs, load average before %s, after %s; %d instances per driver%n%n",
                report.path("cpus").asInt(), report.path("loadavgBefore").asText(), report.path("loadavgAfter").asText(),
                instances));
        s.append("create → available (ms; scale k-1 → k, one at a time, instances kept running)\n");
        s.append(String.format(Locale.ROOT, "%-28s %7s %7s %7s %7s %7s %7s %5s%n", "driver / measure", "n", "p50", "p90",
                "p99", "max", "mean", "fail"));
        report.path("drivers").fields().forEachRemaining(e -> {
            JsonNode d = e.getValue();
            row(s, e.getKey() + " client", d.path("createToAvailableMs"), d.path("failed").asText());
            if (d.path("extraInstances").asInt() > 0 || d.path("requestsWithoutPlacement").asInt() > 0) {
                s.append(String.format(Locale.ROOT, "  (%d extra instances placed unasked, %d requests placed nothing)%n",
                        d.path("extraInstances").asInt(), d.path("requestsWithoutPlacement").asInt()));
            }
            row(s, e.getKey() + " server createdAt→since", d.path("createdToAvailableServerMs"), "");
            d.path("phasesMs").fields().forEachRemaining(p -> row(s, "  " + p.getKey(), p.getValue(), ""));
        });
        JsonNode raw = report.path("rawLxc");
        if (!raw.isMissingNode()) {
            row(s, "raw lxc-start -d, sh init", raw.path("shInitRunningMs"), "");
            row(s, "raw lxc-start, java -version", raw.path("javaVersionMarkerMs"), "");
            row(s, "java -version on the host", raw.path("javaVersionHostMs"), "");
        }
        s.append("\nmemory (MiB): PSS (smaps_rollup) per instance and of the node agent, RSS beside it; p50 p90 max over"
                + " instances;\ntarget judged on p50 (\"max over\": p50 keeps it, max does not)\n");
        s.append(String.format(Locale.ROOT, "%-8s %-22s %4s %7s %7s %7s   %7s %7s %7s   %-15s %s%n", "driver", "process", "n",
                "PSS p50", "p90", "max", "RSS p50", "p90", "max", "target (PSS)", ""));
        report.path("drivers").fields().forEachRemaining(e -> {
            JsonNode m = e.getValue().path("memory");
            JsonNode t = m.path("targets");
            int n = m.path("instances").asInt();
            memRow(s, e.getKey(), "monitor", m, "monitor", t.path("monitorPss"), "");
            memRow(s, e.getKey(), "harness", m, "harness", null, "");
            memRow(s, e.getKey(), "component", m, "component", null, "");
            memRow(s, e.getKey(), "monitor + harness", m, "monitorHarness", t.path("monitorHarnessPss"), "");
            memRow(s, e.getKey(), "instance (all of it)", m, "instance", null, "");
            memRow(s, e.getKey(), "node agent, " + n + " inst.", m, "nodeAgent", t.path("nodeAgentPss"),
                    n == 50 ? "" : " (target for 50)");
            memRow(s, e.getKey(), "node agent, 0 inst.", m, "nodeAgentIdle", null, "");
        });
        s.append("\nharness and container detail (MiB; mean / max; RSS from /proc/PID/status, cgroup v1 memory)\n");
        s.append(String.format(Locale.ROOT, "%-12s %4s %15s %15s %15s %15s %15s%n", "driver", "n", "harness RssAnon",
                "RssFile+Shmem", "cgroup usage", "cg total_rss", "cg total_cache"));
        report.path("drivers").fields().forEachRemaining(e -> {
            JsonNode m = e.getValue().path("memory");
            s.append(String.format(Locale.ROOT, "%-12s %4d %15s %15s %15s %15s %15s%n", e.getKey(),
                    m.path("instances").asInt(), mm(m.path("harnessRssAnonMiB")), mm(m.path("harnessRssFileMiB")),
                    mm(m.path("cgroupUsageMiB")), mm(m.path("cgroupTotalRssMiB")), mm(m.path("cgroupTotalCacheMiB"))));
        });
        JsonNode v = report.path("drivers").path("lxc").path("harnessVariants");
        if (!v.isMissingNode()) {
            s.append("\nharness JVM options (idle, in a plain container with the echo component; MiB mean / max)\n");
            v.fields().forEachRemaining(e -> s.append(String.format(Locale.ROOT,
                    "  PSS p50 %5.1f RSS %13s anon %13s file %13s thr %3.0f start→connected p50 %5.0f ms  n=%d  %s%n",
                    e.getValue().path("harnessPssMiB").path("p50").asDouble(), mm(e.getValue().path("harnessRssMiB")), mm(e.getValue().path("harnessRssAnonMiB")),
                    mm(e.getValue().path("harnessRssFileMiB")), e.getValue().path("harnessThreads").path("p50").asDouble(),
                    e.getValue().path("startToConnectedMs").path("p50").asDouble(),
                    e.getValue().path("running").asInt(), e.getKey())));
        }
        System.out.print(s);
    }

    private static void row(StringBuilder s, String name, JsonNode st, String fail) {
        if (st.isMissingNode() || st.path("n").asInt() == 0) {
            return;
        }
        s.append(String.format(Locale.ROOT, "%-28s %7d %7.0f %7.0f %7.0f %7.0f %7.0f %5s%n", name, st.path("n").asInt(),
                st.path("p50").asDouble(), st.path("p90").asDouble(), st.path("p99").asDouble(), st.path("max").asDouble(),
                st.path("mean").asDouble(), fail));
    }

    /** One process (or sum) of the memory table: PSS and RSS p50, p90, max; the PSS target and its verdict. */
    private static void memRow(StringBuilder s, String driver, String name, JsonNode m, String key, JsonNode target,
            String note) {
        JsonNode pss = m.path(key + "PssMiB");
        JsonNode rss = m.path(key + "RssMiB");
        if (pss.path("n").asInt() == 0) {
            return;
        }
        String verdict = target == null ? "" : !target.path("pass").asBoolean() ? "FAIL"
                : target.path("maxPass").asBoolean() ? "pass" : "pass, max over";
        s.append(String.format(Locale.ROOT, "%-8s %-22s %4d %7.1f %7.1f %7.1f   %7.1f %7.1f %7.1f   %-15s %s%n", driver,
                name, pss.path("n").asInt(), pss.path("p50").asDouble(), pss.path("p90").asDouble(),
                pss.path("max").asDouble(), rss.path("p50").asDouble(), rss.path("p90").asDouble(),
                rss.path("max").asDouble(), target == null ? "" : "<= " + target.path("limitMiB").asInt(), verdict + note));
    }

    private static String mm(JsonNode st) {
        return st.isMissingNode() || st.path("n").asInt() == 0 ? "—"
                : String.format(Locale.ROOT, "%.1f / %.1f", st.path("mean").asDouble(), st.path("max").asDouble());
    }

    private static ObjectNode stats(List<Double> v) {
        ObjectNode o = JSON.createObjectNode();
        o.put("n", v.size());
        if (v.isEmpty()) {
            return o;
        }
        o.put("p50", round(percentile(v, 50))).put("p90", round(percentile(v, 90))).put("p99", round(percentile(v, 99)))
                .put("max", round(v.stream().mapToDouble(Double::doubleValue).max().orElse(0)))
                .put("min", round(v.stream().mapToDouble(Double::doubleValue).min().orElse(0)))
                .put("mean", round(v.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
        return o;
    }

    /** Nearest-rank percentile. */
    private static double percentile(List<Double> v, double p) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    private static double round(double d) {
        return Math.round(d * 10) / 10.0;
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }

    // ---------------------------------------------------------------- processes, HTTP, files

    private static Process start(List<String> cmd, Path log) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        String pids = System.getProperty("smalti.bench.pids");
        if (pids != null) {
            Files.writeString(Path.of(pids), p.pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (p.isAlive()) {
                p.destroy();
            }
        }));
        return p;
    }

    private static void stop(Process p, int seconds) throws InterruptedException {
        if (!p.isAlive()) {
            return;
        }
        log("stopping the node agent (pid " + p.pid() + ")");
        p.destroy(); // SIGTERM: the node leaves and stops its instances
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            log("node agent " + p.pid() + " did not stop in " + seconds + " s: SIGKILL");
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String exec(List<String> cmd, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        String s = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + s.trim());
        }
        return s;
    }

    /** lxc-stop -k, when the container still runs (the java init exits by itself). */
    private static void stopQuietly(Path lxcPath, String name) {
        try {
            exec(List.of("lxc-stop", "-P", lxcPath.toString(), "-n", name, "-k"), 30);
        } catch (IOException e) {
            if (!e.getMessage().contains("not running")) {
                log("[raw] " + e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> cmdline(long pid) {
        try {
            String s = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
            return List.of(s.split("\0"));
        } catch (IOException e) {
            throw new IllegalStateException("pid " + pid + " is gone", e);
        }
    }

    private static void waitHealthy(String api, Process node, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (!node.isAlive()) {
                throw new IllegalStateException("the node agent exited with " + node.exitValue());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/healthz"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the node agent at " + api + " is not healthy after " + seconds + " s");
    }

    interface Call {
        JsonNode call() throws Exception;
    }

    private static JsonNode retry(int seconds, Call c) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                return c.call();
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }

    private static JsonNode get(String url) throws Exception {
        return send("GET", url, HttpRequest.BodyPublishers.noBody(), null, Map.of());
    }

    private static JsonNode sendJson(String method, String url, JsonNode body) throws Exception {
        return send(method, url, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)), "application/json",
                Map.of());
    }

    private static JsonNode send(String method, String url, HttpRequest.BodyPublisher body, String contentType,
            Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).method(method, body);
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        headers.forEach(b::header);
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(method + " " + url + ": HTTP " + r.statusCode() + ": " + r.body());
        }
        return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }

    /** Instances not yet destroyed or failed (ended ones stay listed for a while). */
    private static long notEnded(String api, String typeId) throws Exception {
        long n = 0;
        for (JsonNode i : get(api + "/v1/instances?type=" + typeId).path("instances")) {
            String st = i.path("state").asText();
            n += st.equals("destroyed") || st.equals("failed") ? 0 : 1;
        }
        return n;
    }

    private static long availableCount(String api, String typeId) throws Exception {
        long n = 0;
        for (JsonNode i : get(api + "/v1/instances?type=" + typeId).path("instances")) {
            n += i.path("state").asText().equals("available") ? 1 : 0;
        }
        return n;
    }

    private static Optional<Instant> instant(String s) {
        try {
            return s == null || s.isBlank() ? Optional.empty() : Optional.of(Instant.parse(s));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<Double> between(String from, String to) {
        if (from == null || to == null || from.isBlank() || to.isBlank()) {
            return Optional.empty();
        }
        try {
            Duration d = Duration.between(Instant.parse(from), Instant.parse(to));
            return Optional.of(d.toNanos() / 1e6);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static void copyTree(Path from, Path to) throws IOException, InterruptedException {
        exec(List.of("cp", "-a", from.toString(), to.toString()), 120);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).collect(Collectors.toList())) {
                Files.deleteIfExists(x);
            }
        }
    }

    private static String tail(Path p) {
        try {
            List<String> lines = Files.readAllLines(p);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private static void log(String s) {
        System.err.println(s);
    }
}
