package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may talk to a cluster, end to end with node agents as processes: a node of another cluster CA cannot join
 * (the cluster transport refuses it) and the cluster keeps serving; the REST API refuses a client without a
 * certificate or with another CA's, and a viewer who tries to change something; no secret shows in a process's
 * command line or environment.
 */
class SecurityIT {
    @TempDir
    Path work;

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killAll() throws InterruptedException {
        for (NodeProcess n : nodes) {
            n.kill();
        }
    }

    private NodeProcess start(String name, String host, String seed, Path credentials) throws IOException {
        NodeProcess n = NodeProcess.start(work, name, host, seed, credentials);
        nodes.add(n);
        return n;
    }

    /** The cluster as {@code n} sees it; null until it answers. */
    private static JsonNode members(NodeProcess n) {
        return Dist.await(Duration.ofSeconds(60), n.name + " answering /v1/nodes", () -> Dist.getJson(n.api() + "/v1/nodes"));
    }

    private static int memberCount(NodeProcess n) {
        JsonNode m = Dist.getJson(n.api() + "/v1/nodes");
        return m == null ? 0 : m.path("nodes").size();
    }

    private static int status(HttpClient client, HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void onlyHoldersOfTheClustersCertificatesTakePart() throws Exception {
        NodeProcess n1 = start("n1", "127.0.20.1", null, null);
        NodeProcess n2 = start("n2", "127.0.20.2", n1.clusterAddress(), null);
        Dist.await(Duration.ofSeconds(90), "n1 and n2 in one cluster",
                () -> memberCount(n1) == 2 ? true : null);

        // A node with a certificate of another CA (same cluster name) joining n1: refused by the transport.
        Path foreign = Dist.newCredentials("smalti");
        start("intruder", "127.0.20.3", n1.clusterAddress(), foreign);
        Thread.sleep(15_000);
        JsonNode seen = members(n1);
        List<String> names = new ArrayList<>();
        seen.path("nodes").forEach(m -> names.add(m.path("name").asText()));
        assertEquals(List.of("n1", "n2"), names.stream().sorted().toList(), "the intruder is not a member: " + seen);
        assertNotNull(Dist.getJson(n2.api() + "/v1/ring"), "the cluster keeps serving");

        // The REST API: no client certificate, another CA's operator, a viewer.
        HttpRequest ring = HttpRequest.newBuilder(URI.create(n1.api() + "/v1/ring")).timeout(Duration.ofSeconds(5)).build();
        HttpClient anonymous = HttpClient.newBuilder().sslContext(trustOnly(Dist.credentials().resolve("operator/ca.pem")))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> none = anonymous.send(ring, HttpResponse.BodyHandlers.ofString());
        assertEquals(401, none.statusCode(), none.body());
        assertTrue(none.body().contains("no client certificate"), none.body());
        HttpClient stranger = HttpClient.newBuilder().sslContext(Dist.sslContext(foreign.resolve("operator")))
                .connectTimeout(Duration.ofSeconds(5)).build();
        int strangerStatus;
        try {
            strangerStatus = status(stranger, ring);
        } catch (IOException refusedInHandshake) {
            strangerStatus = -1;
        }
        assertTrue(strangerStatus == -1 || strangerStatus == 401 || strangerStatus == 403,
                "another cluster's operator is refused, got " + strangerStatus);

        Path viewer = work.resolve("viewer");
        Dist.Run cert = Dist.smalti(Duration.ofSeconds(60), work, "operator", "cert", "vera", "--role", "viewer",
                "--out", viewer.toString(), "--node", n1.api());
        assertEquals(0, cert.exit(), cert.out() + cert.err());
        HttpClient vera = HttpClient.newBuilder().sslContext(Dist.sslContext(viewer)).connectTimeout(Duration.ofSeconds(5)).build();
        assertEquals(200, status(vera, ring), "a viewer reads");
        HttpResponse<String> change = vera.send(HttpRequest.newBuilder(URI.create(n1.api() + "/v1/nodes/n2/drain"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(403, change.statusCode(), change.body());
        assertTrue(change.body().contains("viewer vera may read but not change anything"), change.body());
        HttpResponse<String> crossSite = Dist.http().send(HttpRequest.newBuilder(URI.create(n1.api() + "/v1/nodes/n2/drain"))
                .header("Origin", "https://example.org").POST(HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, crossSite.statusCode(), crossSite.body());
        assertTrue(crossSite.body().contains("cross-site request refused"), crossSite.body());

        // A new machine joins with a one-time join token (on its standard input) and the master key file.
        Dist.Run made = Dist.smalti(Duration.ofSeconds(30), work, "cluster", "join-token", "n3", "--node", n1.api());
        assertEquals(0, made.exit(), made.out() + made.err());
        String token = made.out().trim();
        assertTrue(token.startsWith("smalti-join:"), token);
        NodeProcess n3 = NodeProcess.startJoining(work, "n3", "127.0.20.4", n1.clusterAddress(), token,
                Dist.credentials().resolve("master.key"));
        nodes.add(n3);
        Dist.await(Duration.ofSeconds(90), "n3 in the cluster", () -> memberCount(n1) == 3 ? true : null);
        assertFalse(cmdline(ProcessHandle.of(n3.pid()).orElseThrow()).contains(token.substring(12, 40)), "the token is not an argument");
        // The same token again: refused, and that node does not start.
        NodeProcess n4 = NodeProcess.startJoining(work, "n4", "127.0.20.5", n1.clusterAddress(), token,
                Dist.credentials().resolve("master.key"));
        nodes.add(n4);
        Dist.await(Duration.ofSeconds(60), "n4 to stop", () -> n4.isAlive() ? null : true);
        assertTrue(n4.logText().contains("refused the join token"), n4.logText());

        // A secret put into n1's vault: listed without it, audited, and (below) in no command line, environment or file.
        String secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-" + System.nanoTime();
        Path secretFile = work.resolve("secret.txt");
        Files.writeString(secretFile, secret);
        Dist.Run put = Dist.smalti(Duration.ofSeconds(30), work, "cred", "put", "aws-prod", "--kind", "aws-access-key",
                "--shareable", "AKIDEXAMPLE", "--secret-file", secretFile.toString(), "--node", n1.api());
        assertEquals(0, put.exit(), put.out() + put.err());
        Files.delete(secretFile);
        Dist.Run ls = Dist.smalti(Duration.ofSeconds(30), work, "cred", "ls", "--json", "--node", n1.api());
        assertTrue(ls.out().contains("aws-prod") && ls.out().contains("AKIDEXAMPLE"), ls.out());
        assertFalse(ls.out().contains(secret), "the confidential part is never shown");
        Dist.Run audit = Dist.smalti(Duration.ofSeconds(30), work, "cred", "audit", "--json", "--node", n1.api());
        assertTrue(audit.out().contains("\"PUT\"") && audit.out().contains("aws-prod"), audit.out());
        assertFalse(audit.out().contains(secret));
        Dist.Run viewerPut = Dist.smalti(Duration.ofSeconds(30), work, "cred", "rm", "aws-prod", "--node", n1.api(),
                "--cert", viewer.resolve("operator.pem").toString(), "--key", viewer.resolve("operator-key.pem").toString());
        assertEquals(1, viewerPut.exit(), "a viewer cannot delete credentials: " + viewerPut.out());

        // Each node runs its credentials service as a child; no secret in any command line or environment.
        String masterKey = Files.readString(Dist.credentials().resolve("master.key")).trim();
        for (NodeProcess n : List.of(n1, n2)) {
            List<ProcessHandle> all = new ArrayList<>();
            ProcessHandle.of(n.pid()).ifPresent(p -> {
                all.add(p);
                p.descendants().forEach(all::add);
            });
            assertTrue(all.stream().anyMatch(p -> cmdline(p).contains("CredentialsMain")), n.name + " runs its credentials service");
            for (ProcessHandle p : all) {
                for (String s : List.of(masterKey, secret)) {
                    assertFalse(cmdline(p).contains(s), "a secret in the command line of " + p.pid());
                    assertFalse(read(Path.of("/proc", Long.toString(p.pid()), "environ")).contains(s),
                            "a secret in the environment of " + p.pid());
                }
            }
            // Nor in any file of the node's directory (data, logs, credentials): the CA key and the vault are sealed.
            try (Stream<Path> files = Files.walk(n.dataDir.getParent())) {
                files.filter(Files::isRegularFile).forEach(f -> {
                    assertFalse(read(f).contains(masterKey), f.toString());
                    assertFalse(read(f).contains(secret), "the vault's secret in plain text in " + f);
                });
            }
            assertFalse(read(n.dataDir.getParent().resolve("credentials/ca-key.sealed")).contains("PRIVATE KEY"));
        }
    }

    @Test
    void aNodeWhoseCaKeyWasAlteredOrWhoseMasterKeyIsWrongRefusesToStartSayingWhy() throws Exception {
        // The CA key file altered (one bit): the credentials service refuses it, the node says so and exits 2.
        NodeProcess tampered = startBroken("tampered", "127.0.20.6", credentials -> {
            Path key = credentials.resolve("ca-key.sealed");
            byte[] b = Files.readAllBytes(key);
            b[b.length - 3] ^= 1;
            Files.write(key, b);
        }, Dist.credentials().resolve("master.key"));
        Dist.await(Duration.ofSeconds(90), "the tampered node to exit", () -> tampered.isAlive() ? null : true);
        assertTrue(tampered.logText().contains("was altered"), tampered.logText());
        // Another cluster's master key file: refused as not this CA's key.
        NodeProcess wrongKey = startBroken("wrongkey", "127.0.20.7", credentials -> { },
                Dist.newCredentials("smalti").resolve("master.key"));
        Dist.await(Duration.ofSeconds(90), "the node with a wrong master key to exit", () -> wrongKey.isAlive() ? null : true);
        assertTrue(wrongKey.logText().contains("is not the one these credentials"), wrongKey.logText());
    }

    interface Damage {
        void apply(Path credentials) throws IOException;
    }

    /** A node with a copy of the test CA that {@code damage} altered, and {@code masterKey} as its master key file. */
    private NodeProcess startBroken(String name, String host, Damage damage, Path masterKey) throws IOException {
        Path dir = work.resolve(name);
        Path data = dir.resolve("data");
        Files.createDirectories(dir);
        List<String> flags = new ArrayList<>(Dist.credentialsFor(data));
        damage.apply(dir.resolve("credentials"));
        flags.set(flags.indexOf("--master-key-file") + 1, masterKey.toString());
        NodeProcess n = NodeProcess.startWithFlags(work, name, host, flags);
        nodes.add(n);
        return n;
    }

    private static String cmdline(ProcessHandle p) {
        return read(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
    }

    private static String read(Path f) {
        try {
            return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private static javax.net.ssl.SSLContext trustOnly(Path caPem) throws Exception {
        java.security.KeyStore ts = java.security.KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", io.smalti.credentials.ca.Pem.parseCertificate(Files.readAllBytes(caPem)));
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
