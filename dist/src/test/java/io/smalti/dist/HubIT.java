package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import io.smalti.protocol.hub.Target;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The component hub end to end: a three-node local cluster, components started through their harnesses
 * as plain processes on different nodes, driven through the REST API and the CLI; raw, malformed and
 * random frames thrown at a hub port; and, last, the loss of a node with components connected to it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HubIT {
    private static final Random RANDOM = new Random();

    private Path work;
    private Path state;
    private int apiPort;
    private int hubPort;
    private final List<Long> nodePids = new ArrayList<>();
    private final java.util.Map<String, Long> nodePidByName = new java.util.HashMap<>();
    private final List<Running> components = new ArrayList<>();

    /** A component and its harness. */
    record Running(String id, int node, Process harness, Path log) {
        /** The component process (the harness's child). */
        ProcessHandle component() {
            return Dist.await(Duration.ofSeconds(10), "the component process of " + id,
                    () -> harness.children().findFirst().orElse(null));
        }
    }

    @BeforeAll
    void clusterUp() throws Exception {
        work = Files.createTempDirectory("hub-it");
        state = work.resolve("state");
        int clusterPort = Dist.portFreeOnAll(3);
        apiPort = Dist.portFreeOnAll(3);
        hubPort = Dist.portFreeOnAll(3);
        Dist.Run up = Dist.smalti(Duration.ofMinutes(4), work, "cluster", "up", "--nodes", "3", "--driver", "process", "--state-dir",
                state.toString(), "--cluster-port", Integer.toString(clusterPort), "--api-port", Integer.toString(apiPort),
                "--hub-port", Integer.toString(hubPort));
        Dist.useOperator(state.resolve("operator")); // cluster up made it, with the cluster CA
        Dist.JSON.readTree(state.resolve("cluster.json").toFile()).path("nodes").forEach(n -> {
            nodePids.add(n.path("pid").asLong());
            nodePidByName.put(n.path("name").asText(), n.path("pid").asLong());
        });
        assertEquals(0, up.exit(), "cluster up failed:\n" + up.out() + up.err());
    }

    @AfterAll
    void clusterDown() {
        for (Running c : components) {
            c.harness.destroyForcibly();
        }
        Dist.smalti(Duration.ofMinutes(2), work, "cluster", "down", "--state-dir", state.toString());
        for (long pid : nodePids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private String api(int node) {
        return "https://127.0.0." + node + ":" + apiPort;
    }

    /** Starts a component through `smalti harness`, connected to the hub of node 1..3; waits until it answers. */
    private Running start(int node, String mainClass, String... env) throws Exception {
        String id = Id.random(Category.INSTANCE, new java.security.SecureRandom()).toString();
        JsonNode hub = Dist.await(Duration.ofSeconds(30), "node " + node + "'s hub", () -> Dist.getJson(api(node) + "/v1/hub"));
        ObjectNode config = Dist.JSON.createObjectNode();
        config.put("component", id);
        config.putObject("hub").put("host", "127.0.0." + node).put("port", hubPort).put("certificate", hub.path("certificate").asText())
                .put("token", Dist.hubToken(api(node), id));
        var cmd = config.putArray("command");
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx48m").add("-XX:+UseSerialGC").add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp").add(System.getProperty("java.class.path")).add(mainClass);
        ObjectNode environment = config.putObject("environment");
        for (String e : env) {
            environment.put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        config.put("socket", work.resolve(id.substring(0, 12) + ".sock").toString());
        config.put("graceMillis", 2000);
        Path log = work.resolve("harness-" + id.substring(0, 8) + ".log");
        Process p = new ProcessBuilder(Dist.launcher().toString(), "harness").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(Dist.JSON.writeValueAsBytes(config));
        }
        Running r = new Running(id, node, p, log);
        components.add(r);
        Dist.await(Duration.ofSeconds(40), "component " + id + " answering (harness log " + log + ")", () -> {
            if (!p.isAlive()) {
                throw new AssertionError("harness exited with " + p.exitValue() + ":\n" + read(log));
            }
            JsonNode ans = call(1, id, "echo", "\"ping\"", "any", 2000);
            return ans != null && ans.path("results").size() == 1 && ans.path("results").get(0).path("error").isNull() ? ans : null;
        });
        return r;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static HttpResponse<String> post(String url, String body) {
        try {
            return Dist.http().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("POST " + url + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** A call through node {@code via}'s REST API; null unless it answered 200. */
    private JsonNode call(int via, String target, String operation, String inputJson, String selector, int timeoutMs) {
        HttpResponse<String> r = callResponse(via, target, operation, inputJson, selector, timeoutMs);
        try {
            return r.statusCode() == 200 ? Dist.JSON.readTree(r.body()) : null;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private HttpResponse<String> callResponse(int via, String target, String operation, String inputJson, String selector,
                                              int timeoutMs) {
        return post(api(via) + "/v1/call", "{\"target\":\"" + target + "\",\"operation\":\"" + operation
                + "\",\"input\":" + inputJson + ",\"selector\":\"" + selector + "\",\"timeoutMs\":" + timeoutMs + "}");
    }

    private JsonNode mustCall(int via, String target, String operation, String inputJson) {
        HttpResponse<String> response = callResponse(via, target, operation, inputJson, "any", 10_000);
        assertEquals(200, response.statusCode(), () -> operation + " on " + target + " via n" + via + " failed: "
                + response.body() + diagnosticsOf(target));
        JsonNode r;
        try {
            r = Dist.JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + response.body(), e);
        }
        assertTrue(r.path("results").get(0).path("error").isNull(), "error from " + target + ": " + r);
        return r.path("results").get(0).path("output");
    }

    /** For a failure message: the harness log of component {@code id} and the node log lines that name it. */
    private String diagnosticsOf(String id) {
        StringBuilder b = new StringBuilder();
        components.stream().filter(c -> c.id.equals(id)).findFirst()
                .ifPresent(c -> b.append("\nharness log of ").append(id).append(" (node ").append(c.node).append("):\n").append(read(c.log)));
        for (int n = 1; n <= 3; n++) {
            b.append("\nn").append(n).append(" log lines naming it:\n");
            read(state.resolve("nodes").resolve("n" + n).resolve("node.log")).lines().filter(l -> l.contains(id))
                    .forEach(l -> b.append(l).append('\n'));
        }
        return b.toString();
    }

    private List<String> events(Running probe) {
        List<String> out = new ArrayList<>();
        mustCall(1, probe.id, "events", "null").forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Waits (at most {@code within}) until the probe heard {@code event}; returns how long it took. */
    private Duration awaitEvent(Running probe, String event, Duration within) {
        long start = System.nanoTime();
        Dist.await(within, "'" + event + "' at probe " + probe.id + " (heard so far: " + events(probe) + ")",
                () -> events(probe).contains(event) ? Boolean.TRUE : null);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    // ---- the tests ---------------------------------------------------------------------------------

    @Test
    void callsCastsAndGroupsAcrossNodes() throws Exception {
        Running echoA = start(2, "io.smalti.examples.echo.Echo");
        Running echoB = start(3, "io.smalti.examples.echo.Echo");
        // A component on node 2 reached through node 1's API and hub (the call crosses nodes).
        JsonNode out = mustCall(1, echoA.id, "echo", "\"hello\"");
        assertEquals("hello", out.asText());
        // The group: any reaches one member; all gathers every member's answer.
        JsonNode any = call(1, "echo", "echo", "\"x\"", "any", 5000);
        assertEquals(1, any.path("results").size(), any.toString());
        // Other tests' echo components may be members too: every member answers, these two among them.
        JsonNode all = Dist.await(Duration.ofSeconds(10), "both echo members answering an 'all' call", () -> {
            JsonNode a = call(3, "echo", "echo", "\"y\"", "all", 5000);
            if (a == null) {
                return null;
            }
            Set<String> from = new HashSet<>();
            a.path("results").forEach(r -> {
                if (r.path("error").isNull()) {
                    from.add(r.path("from").asText());
                }
            });
            return from.containsAll(Set.of(echoA.id, echoB.id)) && a.path("asked").asInt() == a.path("results").size() ? a : null;
        });
        JsonNode members = Dist.getJson(api(2) + "/v1/groups/echo");
        assertEquals(members.path("members").size(), all.path("asked").asInt(), "asked every member: " + members);

        // The CLI reaches the example too.
        Dist.Run cli = Dist.smalti(Duration.ofSeconds(60), work, "call", echoB.id, "echo", "--input", "\"via cli\"",
                "--node", api(2));
        assertEquals(0, cli.exit(), cli.out() + cli.err());
        assertTrue(cli.out().contains("via cli"), cli.out());
        Dist.Run groups = Dist.smalti(Duration.ofSeconds(60), work, "groups", "--json", "--node", api(3));
        assertEquals(0, groups.exit(), groups.err());
        assertTrue(groups.out().contains("\"echo\""), groups.out());

        // A cast reaches a probe on another node.
        Running probe = start(3, "io.smalti.dist.Probe", "PROBE_GROUPS=probes");
        HttpResponse<String> cast = post(api(1) + "/v1/cast", "{\"target\":\"probes\",\"operation\":\"poke\",\"input\":\"p1\"}");
        assertEquals(202, cast.statusCode(), cast.body());
        awaitEvent(probe, "cast:poke:p1", Duration.ofSeconds(5));

        // Unknown component, empty group: clear errors.
        HttpResponse<String> unknown = post(api(1) + "/v1/call", "{\"target\":\""
                + Id.random(Category.INSTANCE, RANDOM).toString() + "\",\"operation\":\"echo\"}");
        assertEquals(404, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("UNKNOWN_TARGET") && unknown.body().contains("not connected"), unknown.body());
        HttpResponse<String> empty = post(api(2) + "/v1/call", "{\"target\":\"nobody-here\",\"operation\":\"echo\"}");
        assertEquals(404, empty.statusCode(), empty.body());
        assertTrue(empty.body().contains("NO_MEMBERS"), empty.body());
    }

    @Test
    void monitorsHearJoinsLeavesCrashesAndAttributesAndLinksTerminate() throws Exception {
        Running watcher = start(1, "io.smalti.dist.Probe");
        mustCall(1, watcher.id, "monitorGroup", "\"workers\"");
        mustCall(1, watcher.id, "monitorGroupAttributes", "\"workers\"");
        Running worker = start(3, "io.smalti.dist.Probe");
        mustCall(2, worker.id, "register", "\"workers\"");
        awaitEvent(watcher, "joined:workers:" + worker.id, Duration.ofSeconds(2));
        mustCall(2, worker.id, "setGroupAttribute", "\"workers=load=0.5\"");
        awaitEvent(watcher, "attribute:load=0.5", Duration.ofSeconds(2));
        mustCall(2, worker.id, "unregister", "\"workers\"");
        awaitEvent(watcher, "left:workers:" + worker.id + ":unregistered", Duration.ofSeconds(2));
        mustCall(2, worker.id, "register", "\"workers\"");

        // A component monitor and a link on the worker; then SIGKILL the worker's component process.
        mustCall(1, watcher.id, "monitorComponent", "\"" + worker.id + "\"");
        Running linked = start(2, "io.smalti.dist.Probe");
        mustCall(2, linked.id, "link", "\"" + worker.id + "\"");
        long killed = System.nanoTime();
        worker.component().destroyForcibly();
        Duration heardDown = awaitEvent(watcher, "down:" + worker.id + ":disconnected", Duration.ofSeconds(2));
        awaitEvent(watcher, "left:workers:" + worker.id + ":disconnected", Duration.ofSeconds(2));
        System.out.printf("monitor heard the SIGKILLed component go down %d ms after the kill%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
        assertTrue(heardDown.toMillis() <= 2000);
        // The harness of the killed component exits with its status (128 + SIGKILL).
        assertTrue(worker.harness.waitFor(10, TimeUnit.SECONDS), "harness of the killed component still running");
        assertEquals(137, worker.harness.exitValue(), read(worker.log));
        // The linked component is terminated; its harness exits.
        assertTrue(linked.harness.waitFor(15, TimeUnit.SECONDS), "linked component still running:\n" + read(linked.log));
        // The group no longer routes to the dead member.
        HttpResponse<String> none = post(api(1) + "/v1/call", "{\"target\":\"workers\",\"operation\":\"echo\"}");
        assertEquals(404, none.statusCode(), none.body());
    }

    @Test
    void badFramesGetClearErrorsAndTheHubKeepsServing() throws Exception {
        Running echo = start(1, "io.smalti.examples.echo.Echo");
        String cert = Dist.getJson(api(1) + "/v1/hub").path("certificate").asText();
        String host = "127.0.0.1";

        try (HubWire w = HubWire.open(host, hubPort, cert)) { // wrong version
            w.send(Frame.newBuilder().setCorrelation(7).setHello(Hello.newBuilder().setVersion(99)
                    .setComponent(Id.random(Category.INSTANCE, RANDOM).toString())).build());
            Frame f = w.read();
            assertEquals(Error.Code.UNSUPPORTED_VERSION, f.getError().getCode(), f.toString());
            assertTrue(f.getError().getMessage().contains("99"), f.toString());
            assertTrue(w.closedByHub());
        }
        try (HubWire w = HubWire.open(host, hubPort, cert)) { // a request before hello
            w.send(Frame.newBuilder().setCorrelation(3).setCall(Call.newBuilder()
                    .setTarget(Target.newBuilder().setGroup("echo")).setOperation("echo")).build());
            Frame f = w.read();
            assertEquals(Error.Code.BAD_REQUEST, f.getError().getCode());
            assertTrue(f.getError().getMessage().contains("Hello"), f.toString());
            assertTrue(w.closedByHub());
        }
        String me = Id.random(Category.INSTANCE, RANDOM).toString();
        try (HubWire w = HubWire.hello(api(1), host, hubPort, cert, me)) {
            // Malformed bytes in a well-framed frame: an error, and the connection keeps serving.
            w.raw(new byte[] {0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            Frame bad = w.read();
            assertEquals(Error.Code.BAD_REQUEST, bad.getError().getCode(), bad.toString());
            assertTrue(bad.getError().getMessage().contains("malformed"), bad.toString());
            // Unknown target.
            w.send(Frame.newBuilder().setCorrelation(10).setCall(Call.newBuilder().setTarget(Target.newBuilder()
                    .setComponent(Id.random(Category.INSTANCE, RANDOM).toString())).setOperation("echo")).build());
            Frame unknown = w.answer(10);
            assertEquals(Error.Code.UNKNOWN_TARGET, unknown.getError().getCode(), unknown.toString());
            // Expired: the component takes 1.5 s, the request allows 200 ms.
            Running slow = start(2, "io.smalti.dist.Probe", "PROBE_GROUPS=slow");
            long t0 = System.nanoTime();
            w.send(Frame.newBuilder().setCorrelation(11).setTimeoutMs(200).setCall(Call.newBuilder().setTarget(
                    Target.newBuilder().setComponent(slow.id)).setOperation("sleep").setInputs(ByteString.copyFromUtf8("1500"))).build());
            Frame expired = w.answer(11);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(Error.Code.EXPIRED, expired.getError().getCode(), expired.toString());
            assertTrue(tookMs < 1500, "expired after " + tookMs + " ms");
            // A normal call on the same connection still works (and the late answer was dropped, not delivered).
            w.send(Frame.newBuilder().setCorrelation(12).setCall(Call.newBuilder().setTarget(Target.newBuilder()
                    .setComponent(echo.id)).setOperation("echo").setInputs(ByteString.copyFromUtf8("\"ok\""))).build());
            Frame ok = w.answer(12);
            assertEquals("\"ok\"", ok.getReply().getResults(0).getOutputs().toStringUtf8(), ok.toString());
            Thread.sleep(1600);
            w.send(Frame.newBuilder().setCorrelation(13).setCall(Call.newBuilder().setTarget(Target.newBuilder()
                    .setComponent(echo.id)).setOperation("echo").setInputs(ByteString.copyFromUtf8("\"again\""))).build());
            Frame next = w.read();
            assertEquals(13, next.getCorrelation(), "the expired call's late answer must be dropped: " + next);
        }
        try (HubWire w = HubWire.hello(api(1), host, hubPort, cert, Id.random(Category.INSTANCE, RANDOM).toString())) {
            // A frame over the 1 MiB limit: TOO_LARGE and closed.
            w.raw(ByteBuffer.allocate(4).putInt(2 << 20).array());
            Frame f = w.read();
            assertEquals(Error.Code.TOO_LARGE, f.getError().getCode(), f.toString());
            assertTrue(w.closedByHub());
        }
        try (HubWire w = HubWire.hello(api(1), host, hubPort, cert, Id.random(Category.INSTANCE, RANDOM).toString())) {
            // A truncated frame, then the connection drops: nothing to answer, nothing breaks.
            w.raw(new byte[] {0, 0, 0, 100, 1, 2, 3});
        }
        assertEquals("hello", mustCall(1, echo.id, "echo", "\"hello\"").asText());
    }

    @Test
    void aClientCannotSpeakForAnotherComponentNorUseItsCertificateAtAnotherNodesHub() throws Exception {
        Running echo = start(1, "io.smalti.examples.echo.Echo");
        String ca = Dist.getJson(api(1) + "/v1/hub").path("certificate").asText();
        String mine = Id.random(Category.INSTANCE, RANDOM).toString();
        // Its own certificate, the running echo's id in the hello: refused, and the echo instance stays reachable.
        try (HubWire w = HubWire.enrolled(api(1), "127.0.0.1", hubPort, ca, mine)) {
            w.send(Frame.newBuilder().setCorrelation(1).setHello(Hello.newBuilder().setVersion(1).setComponent(echo.id)).build());
            Frame f = w.read();
            assertEquals(Error.Code.UNAUTHENTICATED, f.getError().getCode(), f.toString());
            assertTrue(f.getError().getMessage().contains("the hello claims " + echo.id), f.toString());
            assertTrue(w.closedByHub());
        }
        // Its own id, but at node 2's hub: a harness certificate is valid at its own node only.
        String other = Id.random(Category.INSTANCE, RANDOM).toString();
        java.security.KeyPair pair = io.smalti.credentials.ca.KeyAlgorithm.EC.generate();
        try (HubWire e = HubWire.open("127.0.0.1", hubPort, ca)) {
            e.send(Frame.newBuilder().setCorrelation(1).setEnroll(io.smalti.protocol.hub.Enroll.newBuilder()
                    .setToken(Dist.hubToken(api(1), other))
                    .setPublicKey(com.google.protobuf.ByteString.copyFrom(pair.getPublic().getEncoded()))).build());
            java.security.cert.X509Certificate cert = io.smalti.credentials.ca.Pem.parseCertificate(
                    e.read().getEnrolled().getCertificate().toByteArray());
            try (HubWire at2 = HubWire.withCertificate("127.0.0.2", hubPort, ca, cert, pair.getPrivate())) {
                at2.send(Frame.newBuilder().setCorrelation(1).setHello(Hello.newBuilder().setVersion(1).setComponent(other)).build());
                Frame f = at2.read();
                assertEquals(Error.Code.UNAUTHENTICATED, f.getError().getCode(), f.toString());
                assertTrue(f.getError().getMessage().contains("issued for node n1"), f.toString());
            }
        }
        // A token works once.
        String once = Id.random(Category.INSTANCE, RANDOM).toString();
        String token = Dist.hubToken(api(1), once);
        for (int attempt = 0; attempt < 2; attempt++) {
            try (HubWire e = HubWire.open("127.0.0.1", hubPort, ca)) {
                e.send(Frame.newBuilder().setCorrelation(1).setEnroll(io.smalti.protocol.hub.Enroll.newBuilder().setToken(token)
                        .setPublicKey(com.google.protobuf.ByteString.copyFrom(pair.getPublic().getEncoded()))).build());
                Frame f = e.read();
                assertEquals(attempt == 0, f.hasEnrolled(), "attempt " + attempt + ": " + f);
            }
        }
        assertEquals("still", mustCall(2, echo.id, "echo", "\"still\"").asText());
    }

    @Test
    void aComponentGetsAMacFromTheVaultOnlyOncePolicyAllowsItAndNeverTheSecret() throws Exception {
        Running probe = start(1, "io.smalti.dist.Probe");
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        Path keyFile = work.resolve("hmac.key");
        Files.write(keyFile, key);
        Dist.Run put = Dist.smalti(Duration.ofSeconds(30), work, "cred", "put", "signing", "--kind", "hmac-key",
                "--secret-file", keyFile.toString(), "--node", api(1));
        assertEquals(0, put.exit(), put.out() + put.err());
        Files.delete(keyFile);
        assertEquals("FORBIDDEN", mustCall(1, probe.id, "hmac", "\"signing\"").asText(), "nothing is allowed by default");
        Path policy = work.resolve("policy.json");
        Files.writeString(policy, "{\"rules\":[{\"identity\":\"harness:" + probe.id
                + "\",\"operations\":[\"HMAC\"],\"credential\":\"signing\"}]}");
        Dist.Run set = Dist.smalti(Duration.ofSeconds(30), work, "cred", "policy", "--set", policy.toString(), "--node", api(1));
        assertEquals(0, set.exit(), set.out() + set.err());
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
        String expected = java.util.HexFormat.of().formatHex(mac.doFinal("payload".getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, mustCall(1, probe.id, "hmac", "\"signing\"").asText());
        // A credential it was not granted: refused the same whether it exists or not (nothing to learn by probing).
        assertEquals("FORBIDDEN", mustCall(1, probe.id, "hmac", "\"no-such-key\"").asText());
        Dist.Run audit = Dist.smalti(Duration.ofSeconds(30), work, "cred", "audit", "--json", "--node", api(1));
        assertTrue(audit.out().contains("\"DENIED\"") && audit.out().contains("\"ALLOWED\"")
                && audit.out().contains(probe.id), audit.out());
    }

    @Test
    void fuzzedFramesLeaveTheNodeHealthy() throws Exception {
        Running echo = start(2, "io.smalti.examples.echo.Echo");
        String cert = Dist.getJson(api(2) + "/v1/hub").path("certificate").asText();
        Frame valid = Frame.newBuilder().setCorrelation(5).setCall(Call.newBuilder().setTarget(Target.newBuilder()
                .setGroup("echo")).setOperation("echo").setInputs(ByteString.copyFromUtf8("\"fuzz\""))).build();
        byte[] validBytes = valid.toByteArray();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int connections = 0;
        long seed = System.nanoTime();
        Random r = new Random(seed);
        while (System.nanoTime() < deadline) {
            connections++;
            boolean helloFirst = r.nextBoolean();
            try (HubWire w = helloFirst ? HubWire.hello(api(2), "127.0.0.2", hubPort, cert, Id.random(Category.INSTANCE, r).toString())
                    : HubWire.open("127.0.0.2", hubPort, cert)) {
                for (int i = 0; i < 20; i++) {
                    byte[] frame;
                    switch (r.nextInt(4)) {
                        case 0 -> { // random bytes, random length
                            frame = new byte[r.nextInt(64)];
                            r.nextBytes(frame);
                        }
                        case 1 -> { // a valid frame with bytes flipped
                            byte[] b = validBytes.clone();
                            for (int k = 0; k < 3; k++) {
                                b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                            }
                            frame = ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
                        }
                        case 2 -> { // a valid frame, truncated
                            byte[] b = ByteBuffer.allocate(4 + validBytes.length).putInt(validBytes.length).put(validBytes).array();
                            frame = java.util.Arrays.copyOf(b, 1 + r.nextInt(b.length - 1));
                        }
                        default -> { // a well-framed random body
                            byte[] b = new byte[r.nextInt(200)];
                            r.nextBytes(b);
                            frame = ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
                        }
                    }
                    w.raw(frame);
                }
            } catch (IOException | AssertionError closedOnUs) {
                // the hub may close a connection that sent garbage: that is a correct answer
            }
        }
        System.out.printf("fuzz: %d connections of random and mutated frames (seed %d)%n", connections, seed);
        JsonNode health = Dist.getJson(api(2) + "/healthz");
        assertTrue(health != null && "ok".equals(health.path("status").asText()), "node 2 unhealthy after the fuzz: " + health);
        assertEquals("after", mustCall(2, echo.id, "echo", "\"after\"").asText());
        assertEquals("after", mustCall(1, "echo", "echo", "\"after\"").asText());
    }

    @Test
    @Order(Integer.MAX_VALUE) // kills node 3: after every other test
    void componentsOfALostNodeGoAwayForTheirMonitorsGroupsAndLinks() throws Exception {
        Running watcher = start(1, "io.smalti.dist.Probe");
        Running doomed = start(3, "io.smalti.dist.Probe", "PROBE_GROUPS=doomed-workers");
        mustCall(1, watcher.id, "monitorGroup", "\"doomed-workers\"");
        mustCall(1, watcher.id, "monitorComponent", "\"" + doomed.id + "\"");
        Running linked = start(2, "io.smalti.dist.Probe");
        mustCall(2, linked.id, "link", "\"" + doomed.id + "\"");

        // Node 3's machine fails: its agent and every harness and component on it die at once.
        List<ProcessHandle> onNode3 = new ArrayList<>();
        for (Running c : components) {
            if (c.node == 3 && c.harness.isAlive()) {
                c.harness.children().forEach(onNode3::add);
                onNode3.add(c.harness.toHandle());
            }
        }
        ProcessHandle.of(nodePidByName.get("n3")).ifPresent(onNode3::add);
        long killed = System.nanoTime();
        onNode3.forEach(ProcessHandle::destroyForcibly);

        // The cluster downs n3 once it has been unreachable for a while (split brain resolver), then one
        // surviving node cleans up after the components that were connected to it.
        String reason = "node n3 lost";
        awaitEvent(watcher, "down:" + doomed.id + ":" + reason, Duration.ofSeconds(90));
        awaitEvent(watcher, "left:doomed-workers:" + doomed.id + ":" + reason, Duration.ofSeconds(10));
        System.out.printf("the monitor heard of the component on the lost node %d s after the kill%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed));
        assertTrue(linked.harness.waitFor(30, TimeUnit.SECONDS), "the component linked to it was terminated:\n" + read(linked.log));
        JsonNode members = Dist.getJson(api(1) + "/v1/groups/doomed-workers");
        assertEquals(0, members.path("members").size(), members.toString());
        HttpResponse<String> gone = callResponse(1, doomed.id, "echo", "null", "any", 5000);
        assertEquals(404, gone.statusCode(), gone.body());
        assertTrue(gone.body().contains("UNKNOWN_TARGET"), gone.body());
    }
}
