package io.smalti.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.smalti.bundle.BundleArchive;
import io.smalti.bundle.BundleSignature;
import io.smalti.bundle.DeveloperKey;
import io.smalti.bundle.Limits;
import io.smalti.component.bundles.BundleRepository;
import io.smalti.component.instances.ComponentController;
import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.component.records.ComponentService;
import io.smalti.protocol.component.DrainMark;
import io.smalti.protocol.component.NodeStatus;
import io.smalti.ring.testing.OneNodeCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The component endpoints over HTTP, with the real controller and bundle repository on a one-node ring: what
 * a client is told when it sends a count out of range or names a node nobody knows, and that nothing changed.
 */
class ComponentRoutesTest {
    private static final String NODE = OneNodeCluster.NODE;
    /** What GET /v1/nodes would list here: this node and one that left the cluster. */
    private static final List<String> LISTED = List.of(NODE, "n2");

    private static OneNodeCluster ring;
    private static ExecutorService blocking;
    private static ComponentController controller;
    private static ComponentRecords records;
    private static ActorSystem<Void> http;
    private static ServerBinding binding;
    private static String base;
    private static String digest;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private record Answer(int status, JsonNode body) {
        String error() {
            return body.path("error").asText();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        ring = OneNodeCluster.start("rest", clock -> List.of(new ComponentService(NODE, clock)));
        records = new ComponentRecords(ring.client());
        ring.awaitWritable(() -> records.add("index/warm-up", "warm-up").toCompletableFuture().get(5, TimeUnit.SECONDS));
        Path dir = ring.newDir("rest");
        DeveloperKey key = DeveloperKey.generate("tests");
        Files.createDirectories(dir.resolve("trusted"));
        Files.writeString(dir.resolve("trusted/tests.pub"), key.publicKey().toText() + "\n");
        blocking = Executors.newFixedThreadPool(2);
        BundleRepository bundles = new BundleRepository(records, dir.resolve("cache"), List.of(dir.resolve("trusted")),
                Limits.DEFAULTS, blocking);
        // No node record and no instance agent: the scaler cannot place, so desired counts stay as the tests set them.
        controller = new ComponentController(NODE, records, bundles, ring.ringView(), ring.members(), Duration.ofSeconds(30),
                Duration.ofSeconds(1));

        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("bundle.json"), """
                {"name": "counted", "version": "1.0", "run": {"command": ["true"]}, "resources": {"memory": "64M"}}
                """);
        byte[] archive = BundleArchive.build(src);
        BundleSignature signature = BundleSignature.sign(archive, key);
        digest = signature.digest();
        bundles.store(archive, signature.toJson()).toCompletableFuture().get(30, TimeUnit.SECONDS);

        http = ActorSystem.create(Behaviors.empty(), "rest-test", ConfigFactory.parseString("""
                pekko.actor.provider = local
                pekko.loglevel = WARNING
                """).withFallback(ConfigFactory.load()));
        ComponentRoutes routes = new ComponentRoutes(controller, bundles, () -> new TreeSet<>(LISTED),
                Materializer.matFromSystem(http));
        binding = Http.get(http).newServerAt("127.0.0.1", 0).bind(RestApi.withJsonErrors(routes.routes()))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + binding.localAddress().getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        if (binding != null) {
            binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (http != null) {
            http.terminate();
        }
        if (controller != null) {
            controller.close();
        }
        if (blocking != null) {
            blocking.shutdownNow();
        }
        if (ring != null) {
            ring.close();
        }
    }

    private static Answer send(String method, String path, String json) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(15));
        r.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            r.header("Content-Type", "application/json");
        }
        HttpResponse<String> resp = CLIENT.send(r.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(resp.statusCode(), Json.mapper().readTree(resp.body()));
    }

    private static void assertRefused(String expectedError, Answer a) {
        assertEquals(400, a.status(), a.body().toString());
        assertEquals(expectedError, a.error());
    }

    @Test
    void everyEndpointTakingACountRefusesOneOutsideItsRangeAndLeavesTheTypeAsItWas() throws Exception {
        Answer registered = send("POST", "/v1/types", "{\"bundle\": \"" + digest + "\", \"count\": 2}");
        assertEquals(201, registered.status(), registered.body().toString());
        String type = registered.body().path("id").asText();
        try {
            // Registering with -1 was accepted once, and the scaler then terminated every instance of the type.
            assertRefused("\"count\" must be a whole number from 0 to 1000, got -1",
                    send("POST", "/v1/types", "{\"bundle\": \"" + digest + "\", \"count\": -1}"));
            assertRefused("\"count\" must be a whole number from 0 to 1000, got 1001",
                    send("POST", "/v1/types", "{\"bundle\": \"" + digest + "\", \"count\": 1001}"));
            assertRefused("\"count\" must be a whole number from 0 to 1000, got 2.5",
                    send("POST", "/v1/types", "{\"bundle\": \"" + digest + "\", \"count\": 2.5}"));
            assertRefused("\"count\" must be a whole number from 0 to 1000, got \"3\"",
                    send("POST", "/v1/types", "{\"bundle\": \"" + digest + "\", \"count\": \"3\"}"));

            assertRefused("\"count\" must be a whole number from 0 to 1000, got -1",
                    send("PUT", "/v1/types/" + type + "/scale", "{\"count\": -1}"));
            assertRefused("\"count\" must be a whole number from 0 to 1000, got 1001",
                    send("PUT", "/v1/types/counted/scale", "{\"count\": 1001}"));
            assertRefused("\"count\" must be a whole number from 0 to 1000, got 99999999999",
                    send("PUT", "/v1/types/" + type + "/scale", "{\"count\": 99999999999}"));
            assertRefused("the body needs \"count\" (a whole number from 0 to 1000)",
                    send("PUT", "/v1/types/" + type + "/scale", "{}"));

            // Adding instances: at least one, and the type's total stays within the bound.
            assertRefused("\"count\" must be a whole number from 1 to 1000, got 0",
                    send("POST", "/v1/instances", "{\"type\": \"" + type + "\", \"count\": 0}"));
            assertRefused("\"count\" must be a whole number from 1 to 1000, got -3",
                    send("POST", "/v1/instances", "{\"type\": \"counted\", \"count\": -3}"));
            assertRefused("type counted wants 2 instances; 999 more would be 1001, more than 1000",
                    send("POST", "/v1/instances", "{\"type\": \"" + type + "\", \"count\": 999}"));

            assertEquals(2, send("GET", "/v1/types/" + type, null).body().path("desired").asInt(),
                    "no refused request changed the desired count");
            Answer whole = send("PUT", "/v1/types/" + type + "/scale", "{\"count\": 1000.0}");
            assertEquals(200, whole.status(), whole.body().toString());
            assertEquals(1000, whole.body().path("desired").asInt(), "1000.0 is a whole number, and the bound is inclusive");
        } finally {
            send("DELETE", "/v1/types/" + type, null);
        }
    }

    @Test
    void drainAndUndrainRefuseANodeNobodyKnowsNamingTheKnownOnes() throws Exception {
        for (String action : List.of("drain", "undrain")) {
            Answer a = send("POST", "/v1/nodes/NOSUCH/" + action, null);
            assertEquals(404, a.status(), a.body().toString());
            assertEquals("no node NOSUCH is known: the nodes are n1, n2", a.error());
        }
        assertEquals(Optional.empty(), records.get(ComponentKeys.drain("NOSUCH"), DrainMark.parser()).toCompletableFuture().get(10, TimeUnit.SECONDS),
                "no drain mark is written for it");

        // Listed (here: one that left the cluster), or known by the node record it published: accepted.
        records.put(ComponentKeys.node("n7"), NodeStatus.newBuilder().setName("n7").setState("available").build())
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        for (String node : List.of("n2", "n7")) {
            Answer drained = send("POST", "/v1/nodes/" + node + "/drain", null);
            assertEquals(202, drained.status(), drained.body().toString());
            assertEquals(node, drained.body().path("node").asText());
            assertEquals(true, controller.drained(node).toCompletableFuture().get(10, TimeUnit.SECONDS));
            Answer back = send("POST", "/v1/nodes/" + node + "/undrain", null);
            assertEquals(200, back.status(), back.body().toString());
            assertEquals(false, controller.drained(node).toCompletableFuture().get(10, TimeUnit.SECONDS));
        }
    }
}
