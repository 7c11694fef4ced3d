package io.smalti.bench.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.bench.OperatorTls;
import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentConnection;
import io.smalti.harness.sdk.ComponentContext;
import io.smalti.harness.sdk.ErrorCode;
import io.smalti.harness.sdk.HubException;
import io.smalti.harness.sdk.Reply;
import io.smalti.harness.sdk.Target;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The component hub under test: component A is this JVM (connected with the Java SDK to the local channel
 * of harness A, whose own command only waits), component B is {@link HubEcho} under harness B. A call goes
 * A, harness A, hub, [hub of the second node,] harness B, B and back: the hops of {@code relay3} on one
 * node and {@code relay4} on two. Both harnesses are started with the distribution's launcher
 * ({@code bin/smalti harness}, its default JVM options unless {@code SMALTI_HARNESS_JAVA_OPTS} is set),
 * against node agents that bench/hub-bench has started. Their REST APIs are HTTPS with a client certificate: the
 * operator's of that cluster ({@link OperatorTls#defaultDir()}); each harness gets the cluster CA and a one-time
 * token of the node whose hub it connects to in its configuration, as a node gives its own harnesses.
 */
final class HubSystem implements MessagingSystem {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** Made on first use: the operator directory is only needed when a hub system runs. */
    private static HttpClient http;

    private final String name;
    private final String callerApi;
    private final String calleeApi;
    private final Path launcher;
    private final Path dir;
    private final String idA = Id.random(Category.INSTANCE, new SecureRandom()).toString();
    private final String idB = Id.random(Category.INSTANCE, new SecureRandom()).toString();
    private Child harnessA;
    private Child harnessB;
    private ComponentConnection connection;
    private ComponentContext context;
    private Target b;

    /** {@code callerApi} / {@code calleeApi}: REST base URLs of the nodes whose hubs A and B connect to. */
    HubSystem(String name, String callerApi, String calleeApi, Path launcher, Path dir) {
        this.name = name;
        this.callerApi = callerApi;
        this.calleeApi = calleeApi;
        this.launcher = launcher;
        this.dir = dir;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String path() {
        return callerApi.equals(calleeApi) ? "uds>mtls>mtls>uds (one hub)" : "uds>mtls>artery tls>mtls>uds (2 hubs)";
    }

    @Override
    public void start() throws Exception {
        JsonNode hubA = getJson(callerApi + "/v1/hub");
        JsonNode hubB = getJson(calleeApi + "/v1/hub");
        String java = ProcessHandle.current().info().command().orElse("java");
        harnessB = harness("B", idB, calleeApi, hubB, List.of(java, "-Xms256m", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                HubEcho.class.getName()));
        Path socketA = dir.resolve(name + "-A.sock");
        harnessA = harness("A", idA, callerApi, hubA, List.of("sleep", "infinity"));
        awaitFile(socketA, harnessA);
        connection = ComponentConnection.open(socketA, new Component() {}, new ComponentConnection.Options()
                .agent("smalti-bench-driver").defaultTimeout(TIMEOUT));
        context = connection.context();
        b = Target.component(idB);
        // B is reachable once its harness has connected, the hub has recorded where, and B has said hello.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                context.call(b, "echo", new byte[] {1}, Duration.ofSeconds(2)).get();
                return;
            } catch (Exception e) {
                if (System.nanoTime() > deadline || !harnessB.alive()) {
                    throw new IllegalStateException(name + ": component B did not answer (harness log "
                            + dir.resolve(name + "-harness-B.log") + "): " + e.getMessage(), e);
                }
                Thread.sleep(200);
            }
        }
    }

    private Child harness(String which, String id, String api, JsonNode hub, List<String> command)
            throws IOException, InterruptedException {
        String endpoint = hub.path("endpoint").asText();
        int colon = endpoint.lastIndexOf(':');
        ObjectNode config = JSON.createObjectNode();
        config.put("component", id);
        config.putObject("hub").put("host", endpoint.substring(0, colon)).put("port", Integer.parseInt(endpoint.substring(colon + 1)))
                .put("certificate", hub.path("certificate").asText())
                .put("token", OperatorTls.hubToken(http(), api, id));
        command.forEach(config.putArray("command")::add);
        config.put("socket", dir.resolve(name + "-" + which + ".sock").toString());
        config.put("graceMillis", 2000);
        return Child.execWithInput(name + "-harness-" + which, List.of(launcher.toString(), "harness"),
                dir.resolve(name + "-harness-" + which + ".log"), JSON.writeValueAsBytes(config));
    }

    private static void awaitFile(Path file, Child owner) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline || !owner.alive()) {
                throw new IllegalStateException("harness did not open its local channel " + file);
            }
            Thread.sleep(50);
        }
    }

    private static synchronized HttpClient http() {
        if (http == null) {
            http = OperatorTls.http(OperatorTls.defaultDir());
        }
        return http;
    }

    private static JsonNode getJson(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + url + " answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }

    @Override
    public void call(byte[] payload) throws Exception {
        Reply r = context.call(b, "echo", payload, TIMEOUT).get();
        if (!Arrays.equals(r.outputs(), payload)) {
            throw new IllegalStateException(name + ": the echo differs from the call");
        }
    }

    @Override
    public long castFor(byte[] payload, long nanos) {
        long end = System.nanoTime() + nanos;
        long sent = 0;
        while (System.nanoTime() < end) {
            if (context.cast(b, "cast", payload)) {
                sent++;
            } else {
                Thread.yield(); // the send queue is full: the back-pressure
            }
        }
        return sent;
    }

    @Override
    public void resetReceiver() throws Exception {
        query("reset");
    }

    @Override
    public Received received() throws Exception {
        ByteBuffer stats = ByteBuffer.wrap(query("stats"));
        return new Received(stats.getLong(), stats.getLong(), stats.getLong());
    }

    /**
     * Calls B. Right after a burst of casts to another node the call may be shed on the way (OVERLOADED) or
     * lost (delivery across nodes is best effort: EXPIRED): ask again once the queues have drained.
     */
    private byte[] query(String operation) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try {
                return context.call(b, operation, new byte[0], Duration.ofSeconds(5)).get().outputs();
            } catch (ExecutionException e) {
                boolean retry = e.getCause() instanceof HubException h
                        && (h.code() == ErrorCode.OVERLOADED || h.code() == ErrorCode.EXPIRED);
                if (!retry || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
        }
        // SIGTERM: each harness terminates its component, waits its grace period, and exits.
        if (harnessA != null) {
            harnessA.close();
        }
        if (harnessB != null) {
            harnessB.close();
        }
    }
}
