package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code smalti cluster}: a local cluster of node agents on this machine, for development and demos. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Starts, stops and shows a local cluster of node agents on loopback addresses.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Down.class, ClusterCommand.Status.class, ClusterCommand.Init.class,
                ClusterCommand.JoinToken.class})
final class ClusterCommand {

    static final class StateOptions {
        @Option(names = "--state-dir", paramLabel = "DIR",
                description = "Where the cluster's configuration, data, logs and PIDs live "
                        + "(default: $SMALTI_STATE_DIR, else $XDG_STATE_HOME/smalti, else ~/.local/state/smalti).")
        Path stateDir;
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Creates the credentials of a new cluster of separate machines: the cluster CA (its key sealed under a master key derived from the master key file) in DIR, and a first operator certificate.",
                    "Give every node a copy of DIR (--credentials-dir) and of the master key file (--master-key-file, mode 0600). A local cluster needs none of this: `cluster up` does it."})
    static final class Init implements Callable<Integer> {
        @Option(names = "--dir", required = true, paramLabel = "DIR", description = "Where the CA is written (must not hold one).")
        Path dir;

        @Option(names = "--master-key-file", paramLabel = "FILE",
                description = "The master key file (a passphrase or key of at least 16 bytes, mode 0600); made, with a random key, if it does not exist (default: DIR/../master.key).")
        Path masterKeyFile;

        @Option(names = "--name", defaultValue = "smalti", description = "The cluster's name (smalti.cluster-name; default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--key-algorithm", defaultValue = "ec", paramLabel = "ec|rsa", description = "The CA's key (default: ${DEFAULT-VALUE}).")
        String algorithm;

        @Option(names = "--operator", defaultValue = "admin", paramLabel = "NAME",
                description = "Name of the first operator certificate (default: ${DEFAULT-VALUE}).")
        String operator;

        @Option(names = "--operator-dir", paramLabel = "DIR",
                description = "Where the first operator certificate goes (default: the configuration directory, ~/.config/smalti).")
        Path operatorDir;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path keyFile = masterKeyFile != null ? masterKeyFile : dir.toAbsolutePath().getParent().resolve("master.key");
            Path opDir = operatorDir != null ? operatorDir : ClientTls.configDir();
            if (ClientTls.in(opDir).exists()) {
                throw new Smalti.Failure(opDir.resolve(ClientTls.CERT_FILE) + " exists; give --operator-dir");
            }
            try {
                boolean made = false;
                if (!Files.exists(keyFile)) {
                    io.smalti.credentials.MasterKey.writeNewSecret(keyFile);
                    made = true;
                }
                io.smalti.credentials.MasterKey master = io.smalti.credentials.MasterKey.create(dir,
                        io.smalti.credentials.MasterKey.readSecret(keyFile));
                io.smalti.credentials.ca.ClusterCa ca = io.smalti.credentials.ca.ClusterCa.create(dir, master, name,
                        io.smalti.credentials.ca.KeyAlgorithm.parse(algorithm), java.time.Instant.now());
                LocalCluster.writeOperator(ca, opDir, operator, io.smalti.credentials.ca.Identity.OPERATOR);
                PrintWriter out = spec.commandLine().getOut();
                out.printf("Cluster %s: CA in %s%s%n", name, dir.toAbsolutePath(), made ? ", new master key file " + keyFile : "");
                out.printf("Operator %s: certificate in %s (valid 30 days)%n", operator, opDir);
                out.printf("Start each node with --credentials-dir <copy of %s> --master-key-file <copy of %s>%n", dir, keyFile);
                return 0;
            } catch (io.smalti.credentials.CredentialsException | IllegalArgumentException e) {
                throw new Smalti.Failure(e.getMessage());
            }
        }
    }

    @Command(name = "join-token", mixinStandardHelpOptions = true,
            description = {"Makes a one-time token with which a new machine named NAME joins the cluster: on that machine, "
                    + "`smalti node start --name NAME --join-token-stdin --master-key-file FILE --join HOST:PORT ...` reads it "
                    + "from standard input and fetches the cluster CA (still sealed: the machine needs the master key file too).",
                    "It works once, within smalti.credentials.token-expiry (60 s by default)."})
    static final class JoinToken implements Callable<Integer> {
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "NAME", description = "The new node's name.")
        String name;

        @picocli.CommandLine.Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode answer;
            try {
                answer = options.client().send(options.resolveNode(), "POST", "/v1/join-tokens",
                        ApiClient.JSON.createObjectNode().put("name", name).toString(), "application/json");
            } catch (ApiClient.ApiException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (options.json) {
                Smalti.printJson(out, answer);
            } else {
                out.println(answer.path("token").asText());
            }
            return 0;
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Starts N node agents in the background on 127.0.0.1, 127.0.0.2, ..., waits until every node reports the same ring, and prints the ring. Data is kept between runs (see --fresh).",
                    "When some nodes of the state directory's cluster run (one was killed, say), starts the others with the options the cluster was started with, and waits until they are back in its ring; an option given that differs from those is refused. When all run, says so."})
    static final class Up implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        StateOptions state = new StateOptions();

        @Option(names = "--nodes", defaultValue = "3", description = "How many node agents (default: ${DEFAULT-VALUE}).")
        int count;

        @Option(names = "--ring-size", defaultValue = "64", description = "Q, vnodes in a new ring (default: ${DEFAULT-VALUE}).")
        int ringSize;

        @Option(names = "--replicas", defaultValue = "3", description = "N, replicas per key (default: ${DEFAULT-VALUE}).")
        int replicas;

        @Option(names = "--cluster-port", defaultValue = "7355",
                description = "Cluster transport port of every node (default: ${DEFAULT-VALUE}).")
        int clusterPort;

        @Option(names = "--api-port", defaultValue = "7380", description = "REST API port of every node (default: ${DEFAULT-VALUE}).")
        int apiPort;

        @Option(names = "--hub-port", defaultValue = "7390",
                description = "Port where each node's harnesses connect (default: ${DEFAULT-VALUE}).")
        int hubPort;

        @Option(names = "--single-host",
                description = "Put every node on 127.0.0.1 with consecutive ports instead of one loopback address each.")
        boolean singleHost;

        @Option(names = "--fresh", description = "Delete the state directory first: a new cluster with a new ring.")
        boolean fresh;

        @Option(names = "--driver", defaultValue = "auto", paramLabel = "auto|lxc|process",
                description = "Container driver of the nodes: lxc where the machine can run it (auto), or plain processes (default: ${DEFAULT-VALUE}).")
        String driver;

        @Option(names = "--bridge-prefix", defaultValue = "smalti-", paramLabel = "PREFIX",
                description = "Node n<i>'s container bridge is PREFIXn<i> (default: ${DEFAULT-VALUE}).")
        String bridgePrefix;

        @Option(names = "--subnet-prefix", defaultValue = "10.201", paramLabel = "10.X",
                description = "Node n<i>'s containers get addresses in 10.X.<i>.0/24 (default: ${DEFAULT-VALUE}).")
        String subnetPrefix;

        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "180",
                description = "How long to wait for the ring to settle (default: ${DEFAULT-VALUE}).")
        int waitSeconds;

        @Option(names = "--json", description = "Print the ring as JSON when up, with the nodes started and those already running (progress goes to stderr).")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (count < 1 || count > 64) {
                throw new Smalti.Failure("--nodes must be 1..64, got " + count);
            }
            if (ringSize < 8 || ringSize > 4096 || Integer.bitCount(ringSize) != 1) {
                throw new Smalti.Failure("--ring-size must be a power of two from 8 to 4096, got " + ringSize);
            }
            if (replicas < 1 || replicas > Math.min(16, ringSize / 2)) {
                throw new Smalti.Failure("--replicas must be 1.." + Math.min(16, ringSize / 2) + ", got " + replicas);
            }
            LocalCluster cluster = LocalCluster.at(state.stateDir);
            LocalCluster.Plan requested = new LocalCluster.Plan(count, ringSize, replicas, clusterPort, apiPort, hubPort,
                    !singleHost, new LocalCluster.Containers(driver, bridgePrefix, subnetPrefix));
            Set<String> given = new HashSet<>();
            for (String option : UpDecision.options(requested).keySet()) {
                if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                    given.add(option);
                }
            }
            Set<String> running = new HashSet<>();
            cluster.running().forEach(n -> running.add(n.name()));
            UpDecision.Decision decision = UpDecision.decide(cluster.plan(), running, requested, given, fresh);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter progress = json ? spec.commandLine().getErr() : out;
            if (decision instanceof UpDecision.Refused r) {
                throw new Smalti.Failure(r.reason() + " (state in " + cluster.dir() + ")");
            }
            if (decision instanceof UpDecision.AllRunning all) {
                if (json) {
                    ObjectNode root = ApiClient.JSON.createObjectNode();
                    root.putArray("started");
                    all.running().forEach(root.putArray("alreadyRunning")::add);
                    Smalti.printJson(out, root);
                } else {
                    printNodes(out, cluster, List.of());
                    out.printf("All %d nodes of the local cluster in %s already run; nothing to start.%n",
                            all.running().size(), cluster.dir());
                }
                return 0;
            }
            Path launcher = launcher();
            List<String> started;
            if (decision instanceof UpDecision.StartMissing missing) {
                refuseBusy(missing.plan().addressesInUse(missing.start()));
                progress.printf("Starting %s (%s already running; state in %s)%n", String.join(", ", missing.start()),
                        String.join(", ", missing.running()), cluster.dir());
                cluster.startMissing(missing.start(), launcher);
                started = missing.start();
            } else {
                LocalCluster.Plan plan = ((UpDecision.StartAll) decision).plan();
                if (fresh) {
                    cluster.purge();
                }
                refuseBusy(plan.addressesInUse());
                progress.printf("Starting %d node agents (state in %s)%n", plan.count(), cluster.dir());
                cluster.start(plan, launcher);
                started = plan.names();
            }
            printNodes(progress, cluster, started);
            RingReport report;
            try {
                report = awaitSettled(cluster, Duration.ofSeconds(waitSeconds), progress);
            } catch (Smalti.Failure f) {
                // Only what this command started: nodes that ran before keep running.
                progress.println("Stopping the nodes that were started...");
                cluster.stop(Duration.ofSeconds(20), started);
                throw f;
            }
            if (json) {
                ObjectNode root = report.toJson();
                started.forEach(root.putArray("started")::add);
                cluster.nodes().stream().map(LocalCluster.Node::name).filter(n -> !started.contains(n))
                        .forEach(root.putArray("alreadyRunning")::add);
                Smalti.printJson(out, root);
            } else {
                progress.println();
                report.print(progress);
                progress.printf("%nThe cluster is up. Try: smalti nodes, smalti ring. Stop it with: smalti cluster down%n");
            }
            return 0;
        }

        private static void refuseBusy(List<String> busy) {
            if (!busy.isEmpty()) {
                throw new Smalti.Failure("cannot start the local cluster: " + String.join(", ", busy)
                        + " already in use (another Smalti cluster, e.g. from another --state-dir, or another program); "
                        + "stop it or choose other ports with --cluster-port/--api-port");
            }
        }

        /** NODE | PID | CLUSTER | API | UP: each recorded node, and whether this command started it. */
        private static void printNodes(PrintWriter out, LocalCluster cluster, List<String> started) {
            Table t = new Table("NODE", "PID", "CLUSTER", "API", "UP");
            for (LocalCluster.Node n : cluster.nodes()) {
                t.row(n.name(), n.pid() == 0 ? null : n.pid(), n.clusterAddress(), n.apiUrl(),
                        started.contains(n.name()) ? "started" : n.process().isPresent() ? "already running" : "not running");
            }
            t.print(out, "  ");
            out.flush();
        }

        /**
         * Polls every node until each is healthy and all report the same ring, owned by all of them.
         * Prints a progress line whenever the picture changes; fails fast if a node process exits.
         */
        private static RingReport awaitSettled(LocalCluster cluster, Duration timeout, PrintWriter progress) {
            ApiClient api = cluster.client(Duration.ofSeconds(2));
            long t0 = System.nanoTime();
            long deadline = t0 + timeout.toNanos();
            String lastLine = "";
            Map<String, String> problems = new LinkedHashMap<>();
            while (true) {
                problems.clear();
                List<String> parts = new ArrayList<>();
                List<JsonNode> rings = new ArrayList<>();
                for (LocalCluster.Node n : cluster.nodes()) {
                    if (n.process().isEmpty()) {
                        throw new Smalti.Failure("node " + n.name() + " (pid " + n.pid() + ") exited during start-up. "
                                + "Last lines of " + n.log() + ":\n" + LocalCluster.tail(n.log(), 25));
                    }
                    try {
                        JsonNode health = api.get(n.apiUrl(), "/healthz");
                        JsonNode ring = api.get(n.apiUrl(), "/v1/ring");
                        rings.add(ring);
                        parts.add(n.name() + " " + health.path("member").asText() + " epoch " + ring.path("epoch").asLong());
                    } catch (ApiClient.ApiException e) {
                        problems.put(n.name(), e.getMessage());
                        parts.add(n.name() + " " + (e.status == 0 ? "starting" : "joining"));
                    }
                }
                String line = String.join(" | ", parts);
                double elapsed = (System.nanoTime() - t0) / 1e9;
                if (!line.equals(lastLine)) {
                    progress.printf("  [%5.1fs] %s%n", elapsed, line);
                    progress.flush();
                    lastLine = line;
                }
                if (problems.isEmpty() && settled(rings, cluster.nodes().size())) {
                    try {
                        RingReport report = RingReport.fetch(api, cluster.nodes().get(0).apiUrl());
                        if (report.agreed()) {
                            progress.printf("  [%5.1fs] all %d nodes report ring epoch %d%n", elapsed, rings.size(),
                                    rings.get(0).path("epoch").asLong());
                            return report;
                        }
                    } catch (ApiClient.ApiException e) {
                        problems.put(cluster.nodes().get(0).name(), e.getMessage());
                    }
                }
                if (System.nanoTime() > deadline) {
                    StringBuilder msg = new StringBuilder("the cluster did not settle within " + timeout.toSeconds() + "s: ");
                    if (problems.isEmpty()) {
                        msg.append("nodes report different rings (").append(line).append(")");
                    } else {
                        problems.forEach((name, p) -> msg.append("\n  ").append(name).append(": ").append(p));
                    }
                    for (LocalCluster.Node n : cluster.nodes()) {
                        if (problems.containsKey(n.name())) {
                            msg.append("\nLast lines of ").append(n.log()).append(":\n").append(LocalCluster.tail(n.log(), 25));
                        }
                    }
                    throw new Smalti.Failure(msg.toString());
                }
                sleep(500);
            }
        }

        /** All rings equal (epoch and owners), and every node of the cluster owns vnodes if it can. */
        private static boolean settled(List<JsonNode> rings, int nodes) {
            JsonNode first = rings.get(0);
            for (JsonNode r : rings) {
                if (r.path("epoch").asLong() != first.path("epoch").asLong() || !r.path("owners").equals(first.path("owners"))) {
                    return false;
                }
            }
            return first.path("nodes").size() == Math.min(nodes, first.path("size").asInt());
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stops the node agents `cluster up` started, one at a time: each leaves the cluster (SIGTERM) and is killed if it has not exited within the grace period.")
    static final class Down implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        StateOptions state = new StateOptions();

        @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "90",
                description = "How long each node may take to hand off its replicas and leave before it is killed "
                        + "(default: ${DEFAULT-VALUE}).")
        int graceSeconds;

        @Option(names = "--purge", description = "Also delete the state directory: configuration, data and logs.")
        boolean purge;

        @Option(names = "--json", description = "Print the outcome as JSON.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            LocalCluster cluster = LocalCluster.at(state.stateDir);
            PrintWriter out = spec.commandLine().getOut();
            if (cluster.nodes().isEmpty()) {
                if (purge) {
                    cluster.purge();
                }
                if (json) {
                    out.println("{\"stopped\":[]}");
                } else {
                    out.println("No local cluster in " + cluster.dir() + ".");
                }
                return 0;
            }
            List<LocalCluster.Stopped> stopped = cluster.stop(Duration.ofSeconds(graceSeconds));
            boolean killed = stopped.stream().anyMatch(s -> s.result().contains("killed"));
            if (purge) {
                cluster.purge();
            }
            if (json) {
                ObjectNode root = ApiClient.JSON.createObjectNode();
                ArrayNode arr = root.putArray("stopped");
                for (LocalCluster.Stopped s : stopped) {
                    arr.addObject().put("name", s.node().name()).put("pid", s.node().pid())
                            .put("result", s.result()).put("seconds", s.took().toMillis() / 1000.0);
                }
                root.put("purged", purge);
                Smalti.printJson(out, root);
            } else {
                Table t = new Table("NODE", "PID", "RESULT", "TOOK");
                for (LocalCluster.Stopped s : stopped) {
                    t.row(s.node().name(), s.node().pid() == 0 ? null : s.node().pid(), s.result(),
                            String.format("%.1fs", s.took().toMillis() / 1000.0));
                }
                t.print(out, "");
                out.println(purge ? "Deleted " + cluster.dir() + "." : "Data and logs are kept in " + cluster.dir() + ".");
            }
            return killed ? 1 : 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows the local cluster's node agents: PID, whether they run, and their health.")
    static final class Status implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        StateOptions state = new StateOptions();

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            LocalCluster cluster = LocalCluster.at(state.stateDir);
            ApiClient api = cluster.client(Duration.ofSeconds(2));
            PrintWriter out = spec.commandLine().getOut();
            ArrayNode arr = ApiClient.JSON.createArrayNode();
            Table t = new Table("NODE", "PID", "RUNNING", "API", "HEALTH", "LOG");
            for (LocalCluster.Node n : cluster.nodes()) {
                boolean alive = n.process().isPresent();
                String health;
                if (!alive) {
                    health = "-";
                } else {
                    try {
                        JsonNode h = api.get(n.apiUrl(), "/healthz");
                        health = h.path("status").asText() + ", epoch " + h.path("ringEpoch").asLong();
                    } catch (ApiClient.ApiException e) {
                        health = e.getMessage();
                    }
                }
                t.row(n.name(), alive ? n.pid() : null, alive ? "yes" : "no", n.apiUrl(), health, n.log());
                arr.addObject().put("name", n.name()).put("pid", alive ? n.pid() : 0).put("running", alive)
                        .put("apiUrl", n.apiUrl()).put("health", health).put("log", n.log().toString());
            }
            if (json) {
                ObjectNode root = ApiClient.JSON.createObjectNode();
                root.put("stateDir", cluster.dir().toString());
                root.set("nodes", arr);
                Smalti.printJson(out, root);
            } else if (cluster.nodes().isEmpty()) {
                out.println("No local cluster in " + cluster.dir() + ".");
            } else {
                t.print(out, "");
            }
            return 0;
        }
    }

    /** The {@code smalti} launcher this CLI was started by (the distribution's {@code bin/smalti}). */
    static Path launcher() {
        String home = System.getProperty("smalti.home");
        Path launcher = home == null ? null : Path.of(home, "bin", "smalti");
        if (launcher == null || !Files.isExecutable(launcher)) {
            throw new Smalti.Failure("cannot find the smalti launcher (bin/smalti) to start node agents with; "
                    + "run this command through bin/smalti" + (home == null ? "" : " (looked in " + Objects.requireNonNull(home) + ")"));
        }
        return launcher;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Smalti.Failure("interrupted");
        }
    }
}
