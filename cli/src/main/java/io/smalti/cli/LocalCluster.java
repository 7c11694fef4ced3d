package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A cluster of node agents started on this machine by {@code smalti cluster up}: their configuration,
 * data, logs and PIDs live under one state directory, recorded in {@code cluster.json}. Only processes
 * recorded there, and still running the recorded configuration, are ever signalled.
 *
 * <p>Not thread-safe; one CLI command uses it at a time.
 */
final class LocalCluster {
    static final String STATE_FILE = "cluster.json";

    /** One node agent of the local cluster. */
    record Node(String name, long pid, String host, int clusterPort, String apiUrl, Path dir) {
        Path config() {
            return dir.resolve("node.conf");
        }

        Path log() {
            return dir.resolve("node.log");
        }

        Path dataDir() {
            return dir.resolve("data");
        }

        String clusterAddress() {
            return host + ":" + clusterPort;
        }

        /** The running process of this node, if its PID is alive and still runs this node's configuration. */
        Optional<ProcessHandle> process() {
            if (pid <= 0) {
                return Optional.empty();
            }
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(this::runsOurConfig);
        }

        private boolean runsOurConfig(ProcessHandle p) {
            // /proc/PID/cmdline is exact; ProcessHandle.Info can be truncated or empty.
            try {
                byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
                List<String> args = Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
                return args.contains(config().toString());
            } catch (IOException e) {
                return p.info().arguments().map(a -> Arrays.asList(a).contains(config().toString())).orElse(false);
            }
        }
    }

    private final Path dir;
    private final List<Node> nodes = new ArrayList<>();
    /** The layout the nodes were started with; empty when nothing was started, or by a smalti that did not record it. */
    private Optional<Plan> plan = Optional.empty();

    private LocalCluster(Path dir) {
        this.dir = dir;
    }

    /** The local cluster state in {@code stateDir}, or in the default directory when null. */
    static LocalCluster at(Path stateDir) {
        LocalCluster c = new LocalCluster((stateDir != null ? stateDir : defaultStateDir()).toAbsolutePath().normalize());
        c.load();
        return c;
    }

    /** {@code $SMALTI_STATE_DIR}, else {@code $XDG_STATE_HOME/smalti}, else {@code ~/.local/state/smalti}. */
    static Path defaultStateDir() {
        String env = System.getenv("SMALTI_STATE_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("smalti");
    }

    Path dir() {
        return dir;
    }

    /** Where {@code cluster up} keeps the local cluster's operator certificate, key and CA. */
    static Path operatorDir(Path stateDir) {
        return stateDir.resolve("operator");
    }

    /** A REST client presenting this cluster's operator certificate. */
    ApiClient client(Duration timeout) {
        ClientTls tls = ClientTls.in(operatorDir(dir));
        return new ApiClient(timeout, tls.exists() ? Optional.of(tls) : ClientTls.resolve(null, null, null, null));
    }

    List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** The layout {@code cluster up} last started the nodes with, as recorded in {@code cluster.json}. */
    Optional<Plan> plan() {
        return plan;
    }

    List<Node> running() {
        return nodes.stream().filter(n -> n.process().isPresent()).toList();
    }

    Optional<String> firstRunningApiUrl() {
        return running().stream().map(Node::apiUrl).findFirst();
    }

    private void load() {
        Path file = dir.resolve(STATE_FILE);
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            JsonNode root = ApiClient.JSON.readTree(file.toFile());
            JsonNode p = root.path("plan");
            if (p.isObject()) {
                plan = Optional.of(new Plan(p.path("nodes").asInt(), p.path("ringSize").asInt(), p.path("replicas").asInt(),
                        p.path("clusterPort").asInt(), p.path("apiPort").asInt(), p.path("hubPort").asInt(),
                        p.path("distinctHosts").asBoolean(), new Containers(p.path("driver").asText(),
                        p.path("bridgePrefix").asText(), p.path("subnetPrefix").asText())));
            }
            for (JsonNode n : root.path("nodes")) {
                nodes.add(new Node(n.path("name").asText(), n.path("pid").asLong(), n.path("host").asText(),
                        n.path("clusterPort").asInt(), n.path("apiUrl").asText(), Path.of(n.path("dir").asText())));
            }
        } catch (IOException e) {
            throw new Smalti.Failure("cannot read " + file + ": " + e.getMessage());
        }
    }

    private void save() {
        ObjectNode root = ApiClient.JSON.createObjectNode();
        root.put("updatedAt", Instant.now().toString());
        plan.ifPresent(p -> root.putObject("plan").put("nodes", p.count()).put("ringSize", p.ringSize())
                .put("replicas", p.replicas()).put("clusterPort", p.clusterPort()).put("apiPort", p.apiPort())
                .put("hubPort", p.hubPort()).put("distinctHosts", p.distinctHosts()).put("driver", p.containers().driver())
                .put("bridgePrefix", p.containers().bridgePrefix()).put("subnetPrefix", p.containers().subnetPrefix()));
        ArrayNode arr = root.putArray("nodes");
        for (Node n : nodes) {
            arr.addObject().put("name", n.name()).put("pid", n.pid()).put("host", n.host())
                    .put("clusterPort", n.clusterPort()).put("apiUrl", n.apiUrl()).put("dir", n.dir().toString());
        }
        try {
            ownerOnlyDirectory(dir);
            Path tmp = ownerOnlyFile(dir.resolve(STATE_FILE + ".tmp"));
            ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
            Files.move(tmp, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(STATE_FILE), e);
        }
    }

    /**
     * Where the nodes' containers go: the driver ({@code auto}, {@code lxc}, {@code process}), the bridge of
     * node {@code n<i>} is {@code <bridgePrefix>n<i>} and its subnet {@code <subnetPrefix>.<i>.0/24}, so
     * clusters started from different state directories can keep their containers apart.
     */
    record Containers(String driver, String bridgePrefix, String subnetPrefix) {
        static final Containers DEFAULTS = new Containers("auto", "smalti-", "10.201");

        Containers {
            if (!java.util.List.of("auto", "lxc", "process").contains(driver)) {
                throw new Smalti.Failure("--driver must be auto, lxc or process, not '" + driver + "'");
            }
            if (!bridgePrefix.matches("[a-z0-9-]{1,10}")) {
                throw new Smalti.Failure("--bridge-prefix must be 1..10 of a-z, 0-9, '-', not '" + bridgePrefix + "'");
            }
            if (!subnetPrefix.matches("10\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])")) {
                throw new Smalti.Failure("--subnet-prefix must be 10.X (node n<i> gets 10.X.<i>.0/24), not '" + subnetPrefix + "'");
            }
        }

        String conf(int i) {
            return String.join("\n",
                    "smalti.components {",
                    "  driver = " + driver,
                    "  bridge = \"" + bridgePrefix + "n" + (i + 1) + "\"",
                    "  subnet = \"" + subnetPrefix + "." + (i + 1) + ".0/24\"",
                    "}");
        }
    }

    /** How {@code cluster up} lays out its nodes. */
    record Plan(int count, int ringSize, int replicas, int clusterPort, int apiPort, int hubPort, boolean distinctHosts,
                Containers containers) {

        Plan(int count, int ringSize, int replicas, int clusterPort, int apiPort, int hubPort, boolean distinctHosts) {
            this(count, ringSize, replicas, clusterPort, apiPort, hubPort, distinctHosts, Containers.DEFAULTS);
        }

        /** The nodes' names, n1 to n{@code count}. */
        List<String> names() {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                names.add(name(i));
            }
            return names;
        }

        String name(int i) {
            return "n" + (i + 1);
        }

        /**
         * The addresses this plan needs that something else already listens on, e.g. a cluster started
         * from another state directory: its nodes would answer our health checks.
         */
        List<String> addressesInUse() {
            return addressesInUse(names());
        }

        /** The addresses of the named nodes that something else already listens on. */
        List<String> addressesInUse(List<String> of) {
            List<String> busy = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if (!of.contains(name(i))) {
                    continue;
                }
                for (int port : new int[] {clusterPort(i), apiPort(i), hubPort(i)}) {
                    if (!free(host(i), port)) {
                        busy.add(host(i) + ":" + port);
                    }
                }
            }
            return busy;
        }

        private static boolean free(String host, int port) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(host, port));
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        String host(int i) {
            return distinctHosts ? "127.0.0." + (i + 1) : "127.0.0.1";
        }

        int clusterPort(int i) {
            return distinctHosts ? clusterPort : clusterPort + i;
        }

        int apiPort(int i) {
            return distinctHosts ? apiPort : apiPort + i;
        }

        int hubPort(int i) {
            return distinctHosts ? hubPort : hubPort + i;
        }
    }

    /**
     * Writes each node's configuration and starts it in the background (its own session, so it outlives
     * the terminal), recording the plan, and each PID before starting the next.
     */
    void start(Plan plan, Path launcher) {
        ensureCredentials();
        nodes.clear();
        this.plan = Optional.of(plan);
        List<String> seeds = List.of(plan.host(0) + ":" + plan.clusterPort(0));
        for (int i = 0; i < plan.count(); i++) {
            nodes.add(launch(plan, i, seeds, launcher));
            save();
        }
    }

    /**
     * Starts the named nodes of the recorded plan while the others run, with the configuration they were started
     * with, except that they join the running nodes: the plan's first node, started again alone with itself as
     * its first seed, would form a second cluster.
     */
    void startMissing(List<String> names, Path launcher) {
        Plan p = plan.orElseThrow(() -> new IllegalStateException("no recorded plan in " + dir));
        ensureCredentials();
        List<String> seeds = running().stream().map(Node::clusterAddress).toList();
        for (String name : names) {
            int i = p.names().indexOf(name);
            Node started = launch(p, i, seeds, launcher);
            nodes.removeIf(n -> n.name().equals(name));
            nodes.add(started);
            nodes.sort(java.util.Comparator.comparingInt(n -> p.names().indexOf(n.name())));
            save();
        }
    }

    /** Writes node {@code i}'s configuration and starts it; on failure records what runs and says why. */
    private Node launch(Plan plan, int i, List<String> seeds, Path launcher) {
        String name = plan.name(i);
        Path nodeDir = dir.resolve("nodes").resolve(name);
        Node node = new Node(name, 0, plan.host(i), plan.clusterPort(i),
                "https://" + plan.host(i) + ":" + plan.apiPort(i), nodeDir);
        try {
            // The state directory, each node's directory, data and log: readable by their owner only, as a node
            // makes its data directory (a log shows bundle names, addresses and errors).
            ownerOnlyDirectory(dir);
            ownerOnlyDirectory(dir.resolve("nodes"));
            ownerOnlyDirectory(nodeDir);
            ownerOnlyDirectory(node.dataDir());
            ownerOnlyFile(node.log());
            copyCa(node.dataDir().resolve("credentials"));
            Files.writeString(ownerOnlyFile(node.config()), String.join("\n",
                    "# Written by `smalti cluster up`; rewritten on every `up`.",
                    "smalti.node {",
                    "  name = \"" + name + "\"",
                    "  host = \"" + node.host() + "\"",
                    "  port = " + node.clusterPort(),
                    "  api.port = " + plan.apiPort(i),
                    "  data-dir = \"" + node.dataDir() + "\"",
                    "  seeds = [" + String.join(", ", seeds.stream().map(x -> "\"" + x + "\"").toList()) + "]",
                    "}",
                    "smalti.hub.port = " + plan.hubPort(i),
                    "smalti.credentials.master-key-file = \"" + masterKeyFile() + "\"",
                    "smalti.ring {",
                    "  size = " + plan.ringSize(),
                    "  replicas = " + plan.replicas(),
                    "}",
                    plan.containers().conf(i),
                    ""));
        } catch (IOException e) {
            throw new Smalti.Failure("cannot prepare " + nodeDir + ": " + e);
        }
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.addAll(List.of(launcher.toString(), "node", "start", "--config", node.config().toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(nodeDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(node.log().toFile()));
        try {
            Process p = pb.start();
            return new Node(name, p.pid(), node.host(), node.clusterPort(), node.apiUrl(), nodeDir);
        } catch (IOException e) {
            save();
            throw new Smalti.Failure("cannot start node " + name + " with " + launcher + ": " + e.getMessage());
        }
    }

    Path masterKeyFile() {
        return dir.resolve("master.key");
    }

    Path credentialsDir() {
        return dir.resolve("credentials");
    }

    /**
     * Makes the local cluster's credentials on first use: a random master key file, the cluster CA (its key sealed
     * under it) and an operator certificate for this user ({@code local-admin}, in {@code operator/}); renews that
     * certificate when less than a day of it is left.
     */
    void ensureCredentials() {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            if (!Files.exists(masterKeyFile())) {
                io.smalti.credentials.MasterKey.writeNewSecret(masterKeyFile());
            }
            byte[] secret = io.smalti.credentials.MasterKey.readSecret(masterKeyFile());
            io.smalti.credentials.ca.ClusterCa ca;
            if (!io.smalti.credentials.ca.ClusterCa.exists(credentialsDir())) {
                ca = io.smalti.credentials.ca.ClusterCa.create(credentialsDir(),
                        io.smalti.credentials.MasterKey.create(credentialsDir(), secret), "smalti",
                        io.smalti.credentials.ca.KeyAlgorithm.EC, Instant.now());
            } else {
                ClientTls existing = ClientTls.in(operatorDir(dir));
                if (existing.exists() && validFor(existing.certificate(), Duration.ofDays(1))) {
                    return;
                }
                ca = io.smalti.credentials.ca.ClusterCa.open(credentialsDir(),
                        io.smalti.credentials.MasterKey.open(credentialsDir(), secret));
            }
            writeOperator(ca, operatorDir(dir), "local-admin", io.smalti.credentials.ca.Identity.OPERATOR);
        } catch (IOException | io.smalti.credentials.CredentialsException e) {
            throw new Smalti.Failure("cannot prepare the local cluster's credentials in " + dir + ": " + e.getMessage());
        }
    }

    /** Issues an operator (or viewer) certificate straight from the CA and writes it, its key and the CA into {@code out}. */
    static void writeOperator(io.smalti.credentials.ca.ClusterCa ca, Path out, String name, String role) {
        java.security.KeyPair pair = io.smalti.credentials.ca.KeyAlgorithm.EC.generate();
        java.security.cert.X509Certificate cert = ca.issue(new io.smalti.credentials.ca.Identity(role, name, "", List.of()),
                pair.getPublic(), Duration.ofDays(30), Instant.now());
        writeIdentity(out, io.smalti.credentials.ca.Pem.certificate(cert), io.smalti.credentials.ca.Pem.privateKey(pair.getPrivate()),
                io.smalti.credentials.ca.Pem.certificate(ca.certificate()));
    }

    /** Writes an operator identity (the key 0600, the directory 0700). */
    static void writeIdentity(Path out, String certPem, String keyPem, String caPem) {
        io.smalti.credentials.Files2.writePrivate(out.resolve(ClientTls.KEY_FILE), keyPem.getBytes(StandardCharsets.US_ASCII));
        io.smalti.credentials.Files2.writePrivate(out.resolve(ClientTls.CERT_FILE), certPem.getBytes(StandardCharsets.US_ASCII));
        io.smalti.credentials.Files2.writePrivate(out.resolve(ClientTls.CA_FILE), caPem.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean validFor(Path certFile, Duration margin) {
        try {
            java.security.cert.X509Certificate c = io.smalti.credentials.ca.Pem.parseCertificate(Files.readAllBytes(certFile));
            return c.getNotAfter().toInstant().isAfter(Instant.now().plus(margin));
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Gives a node its copy of the cluster CA (certificate, sealed key, key parameters). */
    private void copyCa(Path nodeCredentials) throws IOException {
        Files.createDirectories(nodeCredentials);
        Files.setPosixFilePermissions(nodeCredentials, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        for (String f : List.of(io.smalti.credentials.ca.ClusterCa.CERTIFICATE_FILE, io.smalti.credentials.ca.ClusterCa.KEY_FILE,
                io.smalti.credentials.MasterKey.PARAMS_FILE)) {
            Path from = credentialsDir().resolve(f);
            Path to = nodeCredentials.resolve(f);
            if (!Files.exists(to) || !java.util.Arrays.equals(Files.readAllBytes(from), Files.readAllBytes(to))) {
                io.smalti.credentials.Files2.writePrivate(to, Files.readAllBytes(from));
            }
        }
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_DIR =
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_FILE =
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");

    /** Creates {@code d} 0700 (its missing parents as usual), or makes an existing one 0700. */
    static void ownerOnlyDirectory(Path d) throws IOException {
        if (!Files.isDirectory(d)) {
            Files.createDirectories(d.toAbsolutePath().getParent());
            Files.createDirectory(d, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(OWNER_DIR));
        }
        Files.setPosixFilePermissions(d, OWNER_DIR);
    }

    /** Creates {@code f} empty and 0600 if it does not exist, or makes it 0600; returns it. */
    static Path ownerOnlyFile(Path f) throws IOException {
        if (!Files.exists(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createFile(f, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(OWNER_FILE));
        } else {
            Files.setPosixFilePermissions(f, OWNER_FILE);
        }
        return f;
    }

    /** The outcome of stopping one node. */
    record Stopped(Node node, String result, Duration took) {}

    /**
     * Stops the running nodes one at a time, newest first: SIGTERM (the node leaves the cluster), then
     * SIGKILL if it has not exited within {@code grace}. Forgets the PIDs; keeps data and logs.
     */
    List<Stopped> stop(Duration grace) {
        return stop(grace, nodes.stream().map(Node::name).toList());
    }

    /** Stops the named nodes as {@link #stop(Duration)} stops them all; the others keep running. */
    List<Stopped> stop(Duration grace, List<String> names) {
        announceStop(names);
        List<Stopped> out = new ArrayList<>();
        List<Node> reversed = new ArrayList<>(nodes.stream().filter(n -> names.contains(n.name())).toList());
        java.util.Collections.reverse(reversed);
        for (Node n : reversed) {
            Instant t0 = Instant.now();
            Optional<ProcessHandle> p = n.process();
            if (p.isEmpty()) {
                out.add(new Stopped(n, clean(n), Duration.between(t0, Instant.now())));
                continue;
            }
            ProcessHandle h = p.get();
            h.destroy();
            String result = "left the cluster and stopped";
            if (!waitForExit(h, grace)) {
                h.destroyForcibly();
                waitForExit(h, Duration.ofSeconds(5));
                result = "did not stop within " + grace.toSeconds() + "s; killed";
            }
            out.add(new Stopped(n, result, Duration.between(t0, Instant.now())));
        }
        nodes.replaceAll(n -> names.contains(n.name()) ? new Node(n.name(), 0, n.host(), n.clusterPort(), n.apiUrl(), n.dir()) : n);
        save();
        return out;
    }

    /**
     * A node that does not run (killed, crashed) may have left containers, mounts and its bridge: its own
     * {@code smalti node clean} destroys them (it refuses if the node runs after all).
     */
    private String clean(Node n) {
        if (!Files.exists(n.config())) {
            return "not running";
        }
        Path launcher;
        try {
            launcher = ClusterCommand.launcher();
        } catch (Smalti.Failure e) {
            return "not running (not cleaned: " + e.getMessage() + ")";
        }
        try {
            Process p = new ProcessBuilder(launcher.toString(), "node", "clean", "--config", n.config().toString())
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "not running; its clean-up did not finish in 120 s";
            }
            return p.exitValue() == 0 ? "not running; cleaned up what it left" : "not running; clean-up failed: " + said;
        } catch (IOException e) {
            return "not running; clean-up failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "not running; clean-up interrupted";
        }
    }

    /**
     * Tells the cluster, before any node stops, that these nodes are about to: none takes new instances from
     * now on, so when every node stops, the instances of the first to stop are not started again on the
     * others, which are stopping too. Best effort: a cluster that cannot be told still stops.
     */
    private void announceStop(List<String> names) {
        ApiClient api = client(Duration.ofSeconds(5));
        for (Node target : nodes.stream().filter(n -> names.contains(n.name())).toList()) {
            for (Node via : running()) {
                try {
                    api.send(via.apiUrl(), "POST", "/v1/nodes/" + target.name() + "/stopping", null);
                    break;
                } catch (ApiClient.ApiException e) {
                    // try the next node
                }
            }
        }
    }

    private static boolean waitForExit(ProcessHandle h, Duration timeout) {
        try {
            h.onExit().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return !h.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !h.isAlive();
        } catch (java.util.concurrent.ExecutionException e) {
            return !h.isAlive();
        }
    }

    /** The last {@code lines} lines of a node's log, for error reports. */
    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** Deletes the whole state directory (data, logs, configuration). */
    void purge() {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new Smalti.Failure("cannot delete " + dir + ": " + e.getMessage());
        }
        nodes.clear();
        plan = Optional.empty();
    }
}
