package io.smalti.dist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Helpers for tests that run the built distribution: launching it, HTTP, ports, bounded waits. */
final class Dist {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The operator identity (operator.pem, operator-key.pem, ca.pem) tests and the CLI they run present. */
    private static volatile Path operatorDir;
    private static volatile HttpClient http;
    /** The cluster credentials made by {@link #credentials()}, once per test JVM. */
    private static Path credentials;

    private Dist() {}

    /** Tests and the CLI they run present the operator certificate in {@code dir} from now on. */
    static synchronized void useOperator(Path dir) {
        operatorDir = dir;
        http = null;
    }

    /** An HTTPS client presenting the current operator certificate and trusting only its cluster CA. */
    static synchronized HttpClient http() {
        if (http == null) {
            if (operatorDir == null) {
                throw new IllegalStateException("no operator certificate yet: Dist.useOperator or Dist.credentials first");
            }
            // A cold JVM's first TLS handshakes run its EC code in the interpreter: seconds on a busy machine.
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).sslContext(sslContext(operatorDir)).build();
        }
        return http;
    }

    static javax.net.ssl.SSLContext sslContext(Path dir) {
        try {
            java.security.cert.X509Certificate cert = io.smalti.credentials.ca.Pem.parseCertificate(
                    Files.readAllBytes(dir.resolve("operator.pem")));
            java.security.cert.X509Certificate ca = io.smalti.credentials.ca.Pem.parseCertificate(
                    Files.readAllBytes(dir.resolve("ca.pem")));
            java.security.PrivateKey key = io.smalti.credentials.ca.Pem.parsePrivateKey(
                    Files.readString(dir.resolve("operator-key.pem")));
            return io.smalti.credentials.ca.TlsContexts.context("TLS", key, cert, ca);
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the operator certificate in " + dir + ": " + e, e);
        }
    }

    /**
     * This test JVM's cluster credentials ({@code smalti cluster init}: CA, master key file, an operator certificate,
     * which the tests then present), made once; node processes get a copy of the CA through {@link #credentialsFor}.
     */
    static synchronized Path credentials() {
        if (credentials == null) {
            credentials = newCredentials("smalti");
        }
        // A test class of nodes from this CA: present its operator (an earlier class may have used its own cluster's).
        if (!credentials.resolve("operator").equals(operatorDir)) {
            useOperator(credentials.resolve("operator"));
        }
        return credentials;
    }

    /** Fresh credentials of another cluster CA ({@code smalti cluster init}): ca/, master.key, operator/. */
    static Path newCredentials(String cluster) {
        try {
            Path dir = Files.createTempDirectory("smalti-it-credentials");
            Run init = smalti(Duration.ofSeconds(60), dir, "cluster", "init", "--dir", dir.resolve("ca").toString(),
                    "--name", cluster, "--master-key-file", dir.resolve("master.key").toString(), "--operator-dir",
                    dir.resolve("operator").toString());
            if (init.exit() != 0) {
                throw new IllegalStateException("smalti cluster init failed: " + init.out() + init.err());
            }
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException("cannot make cluster credentials", e);
        }
    }

    /** Flags that give a node started from {@code dataDir} its copy of the test cluster's CA and the master key file. */
    static List<String> credentialsFor(Path dataDir) {
        return credentialsFor(dataDir, credentials());
    }

    /** The same for the credentials made by {@code smalti cluster init} in {@code creds} (ca/, master.key). */
    static List<String> credentialsFor(Path dataDir, Path creds) {
        Path copy = dataDir.getParent().resolve("credentials");
        try {
            Files.createDirectories(copy);
            for (String f : List.of("ca.pem", "ca-key.sealed", "master.params")) {
                if (!Files.exists(copy.resolve(f))) {
                    Files.copy(creds.resolve("ca").resolve(f), copy.resolve(f));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy the test CA to " + copy, e);
        }
        return List.of("--credentials-dir", copy.toString(), "--master-key-file", creds.resolve("master.key").toString());
    }

    /** The distribution's {@code bin/smalti}; built by {@code mvn package} before the integration tests. */
    static Path launcher() {
        String dist = System.getProperty("smalti.dist");
        Path launcher = dist == null ? null : Path.of(dist, "bin", "smalti");
        if (launcher == null || !Files.isExecutable(launcher)) {
            throw new IllegalStateException("no built distribution at " + launcher
                    + "; run the integration tests through Maven (mvn verify)");
        }
        return launcher;
    }

    /** A TCP port that is free on {@code host} right now. */
    static int freePort(String host) {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("cannot find a free port on " + host, e);
        }
    }

    /** GETs JSON; returns null when the node does not answer or answers with an error. */
    static JsonNode getJson(String url) {
        try {
            HttpResponse<String> r = http().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                System.err.println("GET " + url + ": " + r.statusCode() + " " + r.body());
                return null;
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            System.err.println("GET " + url + ": " + e);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** A one-time token (from the node at {@code api}) for a harness of {@code component} connecting to that node's hub. */
    static String hubToken(String api, String component) {
        try {
            HttpResponse<String> r = http().send(HttpRequest.newBuilder(URI.create(api + "/v1/hub/tokens"))
                    .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"component\":\"" + component + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                throw new AssertionError("POST " + api + "/v1/hub/tokens answered " + r.statusCode() + ": " + r.body());
            }
            return JSON.readTree(r.body()).path("token").asText();
        } catch (IOException e) {
            throw new AssertionError("cannot get a hub token from " + api + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** Polls {@code probe} until it returns non-null; fails after {@code timeout} naming what it waited for. */
    static <T> T await(Duration timeout, String what, Supplier<T> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting for " + what);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** vnode counts per owner of a ring body from GET /v1/ring. */
    static Map<String, Integer> counts(JsonNode ring) {
        Map<String, Integer> out = new TreeMap<>();
        ring.path("owners").forEach(o -> out.merge(o.asText(), 1, Integer::sum));
        return out;
    }

    static List<String> owners(JsonNode ring) {
        List<String> out = new ArrayList<>();
        ring.path("owners").forEach(o -> out.add(o.asText()));
        return out;
    }

    /** Each vnode's preference list (node names) computed from a ring body: the first N distinct owners clockwise. */
    static List<List<String>> preferenceLists(JsonNode ring) {
        List<String> owners = owners(ring);
        int n = ring.path("replicas").asInt();
        int want = Math.min(n, new java.util.HashSet<>(owners).size());
        List<List<String>> out = new ArrayList<>();
        for (int v = 0; v < owners.size(); v++) {
            List<String> list = new ArrayList<>();
            for (int step = 0; list.size() < want; step++) {
                String o = owners.get((v + step) % owners.size());
                if (!list.contains(o)) {
                    list.add(o);
                }
            }
            out.add(list);
        }
        return out;
    }

    /**
     * Why the cluster is not level yet, or null when it is: every replica of every vnode (the nodes of its
     * preference list) holds the {@code expected} records for it, all with the same digest, and no
     * handoff is in progress. {@code uncertain} keys were written without an acknowledgement: they may
     * exist on top of the expected ones (a failed write can still have reached some replicas).
     */
    static String notLevel(List<NodeProcess> nodes, Map<Integer, Integer> expected, int uncertain) {
        JsonNode ring = getJson(nodes.get(0).api() + "/v1/ring");
        if (ring == null) {
            return "no ring from " + nodes.get(0).name;
        }
        for (JsonNode t : ring.path("transfers")) {
            if (!"done".equals(t.path("state").asText())) {
                return "handoff in progress: " + t;
            }
        }
        Map<String, Map<Integer, JsonNode>> replicas = new TreeMap<>();
        for (NodeProcess n : nodes) {
            JsonNode v = getJson(n.api() + "/v1/vnodes");
            if (v == null) {
                return "no answer from " + n.name;
            }
            Map<Integer, JsonNode> byVnode = new TreeMap<>();
            v.path("replicas").forEach(r -> byVnode.put(r.path("vnode").asInt(), r));
            replicas.put(n.name, byVnode);
        }
        List<List<String>> prefs = preferenceLists(ring);
        for (int v = 0; v < prefs.size(); v++) {
            String digest = null;
            for (String holder : prefs.get(v)) {
                Map<Integer, JsonNode> held = replicas.get(holder);
                if (held == null) {
                    return "ring owner " + holder + " is not among the nodes asked";
                }
                JsonNode r = held.get(v);
                long records = r == null ? 0 : r.path("records").asLong();
                int want = expected.getOrDefault(v, 0);
                if (records < want || records > want + uncertain) {
                    return "kv/" + v + " on " + holder + " holds " + records + " records, expected " + want
                            + (uncertain > 0 ? " (+ up to " + uncertain + " not acknowledged)" : "");
                }
                if (r != null) {
                    if (digest != null && !digest.equals(r.path("digest").asText())) {
                        return "kv/" + v + " replicas differ (digest " + digest + " vs " + r.path("digest").asText() + " on " + holder + ")";
                    }
                    digest = r.path("digest").asText();
                }
            }
        }
        return null;
    }

    /** The result of running the CLI. */
    record Run(int exit, String out, String err) {}

    /** Runs {@code bin/smalti args...} to completion (bounded) and captures its output. */
    static Run smalti(Duration timeout, Path workDir, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(workDir, "out", ".txt");
            Path err = Files.createTempFile(workDir, "err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().remove("SMALTI_NODE");
            pb.environment().remove("SMALTI_STATE_DIR");
            if (operatorDir != null) {
                pb.environment().put("SMALTI_CONFIG_DIR", operatorDir.toString());
            }
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("smalti " + String.join(" ", args) + " did not finish within " + timeout
                        + "; output so far:\n" + Files.readString(out) + Files.readString(err));
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + cmd);
        }
    }

    /** A port free on 127.0.0.1 .. 127.0.0.n (the hosts cluster up uses). */
    static int portFreeOnAll(int n) {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port = freePort("127.0.0.1");
            boolean free = true;
            for (int i = 2; i <= n && free; i++) {
                try {
                    new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0." + i)).close();
                } catch (java.io.IOException e) {
                    free = false;
                }
            }
            if (free) {
                return port;
            }
        }
        throw new IllegalStateException("no port free on all of 127.0.0.1.." + n);
    }
}
