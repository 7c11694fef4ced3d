package io.smalti.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One node agent started from the distribution as a separate JVM, with its own data directory and log. */
final class NodeProcess {
    final String name;
    final String host;
    final int clusterPort;
    final int apiPort;
    final Path dataDir;
    final Path log;
    private final List<String> command;
    private Process process;

    private NodeProcess(String name, String host, int clusterPort, int apiPort, Path dataDir, Path log,
                        List<String> command) throws IOException {
        this(name, host, clusterPort, apiPort, dataDir, log, command, null);
    }

    private NodeProcess(String name, String host, int clusterPort, int apiPort, Path dataDir, Path log,
                        List<String> command, String stdin) throws IOException {
        this.name = name;
        this.host = host;
        this.clusterPort = clusterPort;
        this.apiPort = apiPort;
        this.dataDir = dataDir;
        this.log = log;
        this.command = command;
        this.stdin = stdin;
        launch();
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (stdin != null) {
            try (java.io.OutputStream in = process.getOutputStream()) {
                in.write((stdin + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
        }
    }

    /** What the node reads on its standard input (a join token), or null. */
    private String stdin;

    /** Starts a node forming its own cluster with exactly these credential flags (for nodes that must not start). */
    static NodeProcess startWithFlags(Path workDir, String name, String host, List<String> credentialFlags)
            throws IOException {
        int clusterPort = Dist.freePort(host);
        int apiPort = Dist.freePort(host);
        Path dir = workDir.resolve(name);
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(List.of(Dist.launcher().toString(), "node", "start", "--name", name,
                "--host", host, "--port", Integer.toString(clusterPort), "--api-port", Integer.toString(apiPort),
                "--data-dir", dir.resolve("data").toString(), "--driver", "process"));
        cmd.addAll(credentialFlags);
        return new NodeProcess(name, host, clusterPort, apiPort, dir.resolve("data"), dir.resolve("node.log"), List.copyOf(cmd));
    }

    /**
     * Starts a node of a new machine with no CA, joining {@code seed} with {@code joinToken} (given on its standard
     * input) and the cluster's master key file.
     */
    static NodeProcess startJoining(Path workDir, String name, String host, String seed, String joinToken, Path masterKeyFile)
            throws IOException {
        int clusterPort = Dist.freePort(host);
        int apiPort = Dist.freePort(host);
        Path dir = workDir.resolve(name);
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(List.of(Dist.launcher().toString(), "node", "start", "--name", name,
                "--host", host, "--port", Integer.toString(clusterPort), "--api-port", Integer.toString(apiPort),
                "--data-dir", dir.resolve("data").toString(), "--driver", "process", "--join", seed,
                "--master-key-file", masterKeyFile.toString(), "--join-token-stdin"));
        NodeProcess n = new NodeProcess(name, host, clusterPort, apiPort, dir.resolve("data"), dir.resolve("node.log"),
                List.copyOf(cmd), joinToken);
        return n;
    }

    /** Starts the node again after it stopped: same name, ports, data directory and log. */
    void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        launch();
    }

    /** Starts {@code smalti node start} for a node on {@code host}, joining {@code seed} (host:port) if given. */
    static NodeProcess start(Path workDir, String name, String host, String seed, String... extra) throws IOException {
        return start(workDir, name, host, seed, null, extra);
    }

    /** The same with the CA of {@code credentials} (made by {@link Dist#newCredentials}); null: the tests' own. */
    static NodeProcess start(Path workDir, String name, String host, String seed, Path credentials, String... extra)
            throws IOException {
        int clusterPort = Dist.freePort(host);
        int apiPort = Dist.freePort(host);
        Path dir = workDir.resolve(name);
        Files.createDirectories(dir);
        Path log = dir.resolve("node.log");
        List<String> cmd = new ArrayList<>(List.of(Dist.launcher().toString(), "node", "start", "--name", name,
                "--host", host, "--port", Integer.toString(clusterPort), "--api-port", Integer.toString(apiPort),
                "--data-dir", dir.resolve("data").toString()));
        // These tests need no containers: no bridge, no LXC (ComponentsIT starts its own cluster).
        cmd.add("--driver");
        cmd.add("process");
        cmd.add("--join");
        cmd.add(seed != null ? seed : host + ":" + clusterPort);
        cmd.addAll(credentials == null ? Dist.credentialsFor(dir.resolve("data"))
                : Dist.credentialsFor(dir.resolve("data"), credentials));
        cmd.addAll(List.of(extra));
        return new NodeProcess(name, host, clusterPort, apiPort, dir.resolve("data"), log, List.copyOf(cmd));
    }

    String clusterAddress() {
        return host + ":" + clusterPort;
    }

    String api() {
        return "https://" + host + ":" + apiPort;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: the node vanishes without leaving. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGSTOP / SIGCONT: the process freezes (or resumes) without losing its connections. */
    void signal(String sig) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    /** SIGTERM, then wait for the process to exit; returns its exit code, or -1 if it is still running. */
    int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }
}
