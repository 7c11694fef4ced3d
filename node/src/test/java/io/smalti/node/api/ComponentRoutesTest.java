package io.smalti.node.api;

import static io.smalti.node.api.ComponentRoutes.SIGNATURE_HEADER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.nio.charset.StandardCharsets;
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
    private static Path dir;
    private static DeveloperKey key;
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
        dir = ring.newDir("rest");
        key = DeveloperKey.generate("tests");
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
                new BodyLimit(1 << 20), Materializer.matFromSystem(http));
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

    // ---- bodies over a route's limit, large bundles, bombs ------------------------------------------------------

    /** A response read off a raw socket. */
    private record RawAnswer(int status, JsonNode body, long millis) {}

    /**
     * Sends a request whose headers declare {@code declared} body bytes, then only 16 of them, and reads the
     * answer: a route that waited for the body would time out (5 s).
     */
    private static RawAnswer declareAndSendLittle(String path, long declared, String extraHeader) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", binding.localAddress().getPort())) {
            socket.setSoTimeout(5_000);
            long start = System.nanoTime();
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + declared + "\r\n" + extraHeader + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[16]);
            out.flush();
            return readAnswer(socket, start);
        }
    }

    /**
     * Sends a chunked body of {@code total} bytes in 64 KiB chunks (as long as the node reads) and reads the answer.
     * Keep what is sent past a limit small (a few hundred KiB): it must fit the sockets' buffers, so that this client
     * is reading when the 413 comes; blocked in a write instead, it may see the connection reset first, when the node
     * closes it with those bytes unread.
     */
    private static RawAnswer sendChunked(String path, long total) throws Exception {
        return sendChunked(binding.localAddress().getPort(), path, total, "");
    }

    private static RawAnswer sendChunked(int port, String path, long total, String extraHeader) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            long start = System.nanoTime();
            java.io.OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n" + extraHeader + "\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 << 10];
            java.util.Arrays.fill(chunk, (byte) ' ');
            try {
                for (long sent = 0; sent < total; sent += chunk.length) {
                    int n = (int) Math.min(chunk.length, total - sent);
                    out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk, 0, n);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (java.io.IOException closed) {
                // the node answered and closed the connection before the whole body was sent: read its answer
            }
            return readAnswer(socket, start);
        }
    }

    private static RawAnswer readAnswer(java.net.Socket socket, long start) throws Exception {
        java.io.InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
        String status = line(in);
        long length = -1;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            if (h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Long.parseLong(h.substring("content-length:".length()).trim());
            }
        }
        byte[] body = in.readNBytes((int) length);
        return new RawAnswer(Integer.parseInt(status.split(" ")[1]), Json.mapper().readTree(body),
                (System.nanoTime() - start) / 1_000_000);
    }

    private static String line(java.io.InputStream in) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new java.io.EOFException("connection closed after '" + b + "'");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    @Test
    void aBodyDeclaredOverItsRoutesLimitIsRefusedAtOnceNamingTheLimit() throws Exception {
        // 300 MiB declared, 16 bytes sent: the answer comes from the Content-Length alone.
        RawAnswer bundle = declareAndSendLittle("/v1/bundles", 300L << 20, SIGNATURE_HEADER + ": e30=\r\n");
        assertEquals(413, bundle.status(), bundle.body().toString());
        assertEquals("request body of 300 MiB is over this route's limit of 256 MiB", bundle.body().path("error").asText());
        assertEquals(413, bundle.body().path("status").asInt());
        assertTrue(bundle.millis() < 5_000, "answered in " + bundle.millis() + " ms");

        RawAnswer json = declareAndSendLittle("/v1/types", (1 << 20) + 1, "");
        assertEquals(413, json.status(), json.body().toString());
        assertEquals("request body of 1048577 bytes is over this route's limit of 1048576 bytes (1 MiB)", json.body().path("error").asText());
    }

    @Test
    void aChunkedBodyIsCutOffAtItsRoutesLimit() throws Exception {
        RawAnswer a = sendChunked("/v1/types", (1 << 20) + (256 << 10));
        assertEquals(413, a.status(), a.body().toString());
        assertEquals("request body is over this route's limit of 1 MiB", a.body().path("error").asText());
        // Within the limit, the same route reads the body as usual.
        RawAnswer fine = sendChunked("/v1/types", 1000);
        assertEquals(400, fine.status(), fine.body().toString());
        assertEquals("the body must be a JSON object", fine.body().path("error").asText());
    }

    /**
     * A bundle pushed chunked (no Content-Length) past the node's bundle limit (here 1 MiB) is cut off there while
     * it streams to disk: 413, and the partial upload is deleted.
     */
    @Test
    void aChunkedPushIsCutOffAtTheNodesBundleLimitAndLeavesNothing() throws Exception {
        Path cache = dir.resolve("cache-small");
        BundleRepository small = new BundleRepository(records, cache, List.of(dir.resolve("trusted")), Limits.DEFAULTS,
                1 << 20, blocking);
        ComponentRoutes routes = new ComponentRoutes(controller, small, () -> new TreeSet<>(LISTED), new BodyLimit(1 << 20),
                Materializer.matFromSystem(http));
        ServerBinding smallBinding = Http.get(http).newServerAt("127.0.0.1", 0).bind(RestApi.withJsonErrors(routes.routes()))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            RawAnswer a = sendChunked(smallBinding.localAddress().getPort(), "/v1/bundles", (1 << 20) + (256 << 10),
                    SIGNATURE_HEADER + ": e30=\r\n");
            assertEquals(413, a.status(), a.body().toString());
            assertEquals("request body is over this route's limit of 1 MiB", a.body().path("error").asText());
            try (var left = Files.list(cache)) {
                assertEquals(List.of(), left.toList(), "the partial upload is deleted");
            }
        } finally {
            smallBinding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** 100 MiB of random bytes (incompressible) in four files: more than pekko-http's 8 MiB default by far. */
    @Test
    void aSignedBundleOf100MiBIsPushedAndStored() throws Exception {
        Path src = Files.createDirectories(dir.resolve("big-src"));
        Files.writeString(src.resolve("bundle.json"), """
                {"name": "big", "version": "1.0", "run": {"command": ["true"]}}
                """);
        java.util.SplittableRandom random = new java.util.SplittableRandom(100);
        byte[] buf = new byte[1 << 20];
        for (int f = 0; f < 4; f++) {
            try (java.io.OutputStream out = Files.newOutputStream(src.resolve("blob-" + f + ".bin"))) {
                for (int mib = 0; mib < 25; mib++) {
                    for (int i = 0; i < buf.length; i += 8) {
                        long r = random.nextLong();
                        for (int k = 0; k < 8; k++) {
                            buf[i + k] = (byte) (r >>> (8 * k));
                        }
                    }
                    out.write(buf);
                }
            }
        }
        Path archive = dir.resolve("big-1.0.tar.gz");
        BundleArchive.build(src, archive);
        long size = Files.size(archive);
        assertTrue(size > 100L << 20, "the archive has " + size + " bytes");
        BundleSignature signature = BundleSignature.sign(archive, key);

        HttpResponse<String> resp = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/v1/bundles"))
                .timeout(Duration.ofSeconds(120)).header(SIGNATURE_HEADER, java.util.Base64.getEncoder()
                        .encodeToString(signature.toJson())).POST(HttpRequest.BodyPublishers.ofFile(archive)).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode body = Json.mapper().readTree(resp.body());
        assertEquals(201, resp.statusCode(), resp.body());
        assertEquals(signature.digest(), body.path("digest").asText());
        assertEquals(size, body.path("size").asLong());
        Answer listed = send("GET", "/v1/bundles/" + signature.digest(), null);
        assertEquals(200, listed.status(), listed.body().toString());
        assertEquals("big", listed.body().path("name").asText());
        assertEquals(List.of(), hiddenInCache(), "the upload and the verification's copy are gone");
    }

    /**
     * A signed archive of 256 MiB of zeros in 4 MiB files (a few hundred KiB compressed) whose manifest allows 16 MiB:
     * refused, having written at most those 16 MiB (and the archive itself) to disk, as counted by the kernel.
     */
    @Test
    void aSignedBombIsRefusedHavingWrittenAtMostItsLimit() throws Exception {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
                new java.util.zip.GZIPOutputStream(bytes))) {
            byte[] manifest = """
                    {"name": "bomb", "version": "1", "run": {"command": ["true"]}, "resources": {"disk": "16M"}}
                    """.getBytes(StandardCharsets.UTF_8);
            var m = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("bundle.json");
            m.setSize(manifest.length);
            tar.putArchiveEntry(m);
            tar.write(manifest);
            tar.closeArchiveEntry();
            byte[] zeros = new byte[4 << 20];
            for (int i = 0; i < 64; i++) {
                var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(String.format("zeros/%02d", i));
                e.setSize(zeros.length);
                tar.putArchiveEntry(e);
                tar.write(zeros);
                tar.closeArchiveEntry();
            }
        }
        byte[] archive = bytes.toByteArray();
        assertTrue(archive.length < 1 << 20, "256 MiB of zeros compress to " + archive.length);
        BundleSignature signature = BundleSignature.sign(archive, key);

        long before = writtenByThisProcess();
        HttpResponse<String> resp = CLIENT.send(HttpRequest.newBuilder(URI.create(base + "/v1/bundles"))
                .timeout(Duration.ofSeconds(30)).header(SIGNATURE_HEADER, java.util.Base64.getEncoder()
                        .encodeToString(signature.toJson())).POST(HttpRequest.BodyPublishers.ofByteArray(archive)).build(),
                HttpResponse.BodyHandlers.ofString());
        long written = writtenByThisProcess() - before;
        assertEquals(400, resp.statusCode(), resp.body());
        assertEquals("bundle refused: entry 'zeros/03': the bundle exceeds 16777216 bytes in all (its bundle.json's"
                + " resources.disk, 16M)", Json.mapper().readTree(resp.body()).path("error").asText());
        // The client's socket writes and the node's copy of the upload count too: twice the archive, and some slack.
        long allowed = (16L << 20) + 2L * archive.length + (1 << 20);
        assertTrue(written <= allowed, "wrote " + written + " bytes, more than " + allowed);
        assertEquals(Optional.empty(), records.get(ComponentKeys.bundle(signature.digest()),
                io.smalti.protocol.component.BundleMeta.parser()).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(List.of(), hiddenInCache(), "nothing of the bomb is left");
    }

    private static List<Path> hiddenInCache() throws java.io.IOException {
        if (!Files.isDirectory(dir.resolve("cache"))) {
            return List.of();
        }
        try (var files = Files.list(dir.resolve("cache"))) {
            return files.filter(p -> p.getFileName().toString().startsWith(".")).toList();
        }
    }

    /** The bytes this process passed to write(2) so far; the test is skipped where /proc does not tell. */
    private static long writtenByThisProcess() throws java.io.IOException {
        Path io = Path.of("/proc/self/io");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(io), "no /proc/self/io here");
        for (String line : Files.readAllLines(io)) {
            if (line.startsWith("wchar:")) {
                return Long.parseLong(line.substring("wchar:".length()).trim());
            }
        }
        throw new IllegalStateException("no wchar in /proc/self/io");
    }
}
