package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy, ps, destroy, scale, types, bundles, node drain and nodes against an in-test node's REST API. */
class ComponentCommandsTest {
    private static final String DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
    /** Ids laid out as the platform's: prefix, category, sub-element 0, random target. */
    private static final String TYPE = "1a2b0003000000001111222233334444aaaabbbb";
    private static final String TYPE2 = "3c4d0003000000005555666677778888ccccdddd";
    private static final String I1 = "1a200004000000000000000000000000000000a1";
    private static final String I2 = "1a200004000000000000000000000000000000b2";
    private static final String I3 = "1a200004000000000000000000000000000000c3";

    @TempDir
    Path dir;

    private HttpServer server;
    private String base;
    /** Canned answers by "METHOD raw-path[?raw-query]": each call takes the next, the last one repeats. */
    private final Map<String, Deque<Object[]>> answers = new ConcurrentHashMap<>();
    /** What the node received: "METHOD raw-path[?query] content-type body". */
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, String> signatures = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String query = ex.getRequestURI().getRawQuery();
        String key = ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        received.add(key + " " + ex.getRequestHeaders().getFirst("Content-Type") + " " + body);
        String sig = ex.getRequestHeaders().getFirst("Smalti-Signature");
        if (sig != null) {
            signatures.put(key, sig);
        }
        Deque<Object[]> queue = answers.get(key);
        Object[] a;
        if (queue == null) {
            a = new Object[] {404, "{\"status\":404,\"error\":\"no route " + key + "\"}"};
        } else {
            synchronized (queue) {
                a = queue.size() > 1 ? queue.poll() : queue.peek();
            }
        }
        byte[] b = ((String) a[1]).getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders((int) a[0], b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
        ex.close();
    }

    /** Answers {@code route} with these bodies in turn (single quotes stand for double quotes). */
    private void answer(String route, int status, String... json) {
        Deque<Object[]> queue = new ArrayDeque<>();
        for (String j : json) {
            queue.add(new Object[] {status, j.replace('\'', '"')});
        }
        answers.put(route, queue);
    }

    private record Run(int exit, String out, String err) {
        List<String> lines() {
            return List.of(out.split("\\R"));
        }
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--node";
        all[args.length + 1] = base;
        int exit = Smalti.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    private static String instance(String id, String node, String state, String extra) {
        return "{'id':'" + id + "','type':'" + TYPE + "','typeName':'echo','node':'" + node + "','state':'" + state
                + "','since':null,'createdAt':'2024-05-01T10:00:00Z','address':" + (state.equals("available")
                ? "'10.0.0.1:9000'" : "null") + ",'memoryBytes':null,'cpuSeconds':null,'driver':'process'" + extra + "}";
    }

    private static String instances(String... items) {
        return "{'instances':[" + String.join(",", items) + "]}";
    }

    private Path bundle(boolean signed) throws IOException {
        Path archive = dir.resolve("echo-1.0.tar.gz");
        Files.write(archive, new byte[] {31, -117, 8, 0, 1});
        if (signed) {
            Files.writeString(dir.resolve("echo-1.0.sig"), "signature-bytes");
        }
        return archive;
    }

    private void pushAndRegister(int registerStatus, String types, int desired) {
        answer("POST /v1/bundles", 201, "{'digest':'" + DIGEST + "','name':'echo','version':'1.0','size':5,"
                + "'signedBy':'dev','storedAt':'2024-05-01T10:00:00Z'}");
        answer("GET /v1/types", 200, types);
        answer("POST /v1/types", registerStatus, "{'id':'" + TYPE + "','name':'echo','version':'1.0','bundle':'"
                + DIGEST + "','desired':" + desired + ",'registeredAt':'2024-05-01T10:00:00Z'}");
    }

    @Test
    void deployPushesRegistersAndWaitsUntilTheInstancesAreAvailable() throws Exception {
        Path archive = bundle(true);
        pushAndRegister(201, "{'types':[]}", 2);
        answer("GET /v1/instances?type=" + TYPE, 200,
                instances(instance(I1, "n1", "preparing", ""), instance(I2, "n2", "preparing", "")),
                instances(instance(I1, "n1", "available", ""), instance(I2, "n2", "initializing", "")),
                instances(instance(I1, "n1", "available", ""), instance(I2, "n2", "available", "")));
        Run r = run("deploy", archive.toString(), "--count", "2");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(
                "pushing bundle echo-1.0.tar.gz (5 B)... echo 1.0 stored as 0123456789ab",
                "registering type echo 1.0... " + TYPE + " (desired 2)",
                "waiting for 2 instances: 0/2 available (2 preparing)",
                "waiting for 2 instances: 1/2 available (1 initializing)",
                "waiting for 2 instances: 2/2 available",
                "INSTANCE      TYPE  NODE  STATE      UPTIME  MEMORY  ADDRESS",
                "0000000000a1  echo  n1    available  -       -       10.0.0.1:9000",
                "0000000000b2  echo  n2    available  -       -       10.0.0.1:9000",
                "echo 1.0: 2 instances available"), r.lines());
        assertEquals("", r.err());
        // The archive as bytes with its detached signature in base64; then the type by digest with the count.
        assertTrue(received.get(0).startsWith("POST /v1/bundles application/octet-stream "), received.get(0));
        assertEquals(Base64.getEncoder().encodeToString("signature-bytes".getBytes(StandardCharsets.UTF_8)),
                signatures.get("POST /v1/bundles"));
        assertEquals("GET /v1/types null ", received.get(1));
        assertEquals("POST /v1/types application/json {\"bundle\":\"" + DIGEST + "\",\"count\":2}", received.get(2));
        assertEquals(List.of("GET /v1/instances?type=" + TYPE + " null "), received.subList(3, 6).stream()
                .distinct().toList());
        assertEquals(6, received.size());
    }

    @Test
    void deployJsonPrintsBundleTypeAndInstancesWithProgressOnStderr() throws Exception {
        Path archive = bundle(true);
        pushAndRegister(201, "{'types':[]}", 1);
        answer("GET /v1/instances?type=" + TYPE, 200, instances(instance(I1, "n1", "available", "")));
        Run r = run("deploy", archive.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = ApiClient.JSON.readTree(r.out());
        assertEquals(DIGEST, doc.path("bundle").path("digest").asText());
        assertEquals(TYPE, doc.path("type").path("id").asText());
        assertEquals(I1, doc.path("instances").get(0).path("id").asText());
        assertTrue(r.err().contains("waiting for 1 instance: 1/1 available"), r.err());
        // Without --count, the node's default applies: no count is sent.
        assertEquals("POST /v1/types application/json {\"bundle\":\"" + DIGEST + "\"}", received.get(2));
    }

    @Test
    void deployFailsWithTheReasonOfAFailedInstance() throws Exception {
        Path archive = bundle(true);
        pushAndRegister(201, "{'types':[]}", 2);
        answer("GET /v1/instances?type=" + TYPE, 200,
                instances(instance(I1, "n1", "initializing", ""), instance(I2, "n2", "preparing", "")),
                instances(instance(I1, "n1", "available", ""), instance(I2, "n2", "failed", "")));
        answer("GET /v1/instances/" + I2, 200, instance(I2, "n2", "failed", ",'history':["
                + "{'state':'preparing','at':'2024-05-01T10:00:00Z','reason':null},"
                + "{'state':'failed','at':'2024-05-01T10:00:01Z','reason':'cannot start: exec format error'}]"));
        Run r = run("deploy", archive.toString(), "--count", "2");
        assertEquals(1, r.exit());
        assertEquals("smalti deploy: instance " + I2 + " of echo 1.0 failed on node n2: cannot start: exec format error",
                r.err().strip());
    }

    @Test
    void redeployIgnoresInstancesThatFailedBefore() throws Exception {
        Path archive = bundle(true);
        pushAndRegister(200, "{'types':[{'id':'" + TYPE + "','name':'echo','version':'1.0','bundle':'" + DIGEST
                + "','desired':1,'instances':1,'available':0,'registeredAt':'2024-05-01T10:00:00Z'}]}", 1);
        answer("GET /v1/instances?type=" + TYPE, 200,
                instances(instance(I1, "n1", "failed", "")),
                instances(instance(I1, "n1", "failed", ""), instance(I2, "n2", "available", "")));
        Run r = run("deploy", archive.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("registering type echo 1.0... already registered as " + TYPE + " (desired 1)"),
                r.out());
        assertTrue(r.out().contains("0000000000b2  echo  n2    available"), r.out());
        assertFalse(r.out().contains("0000000000a1"), r.out());
    }

    @Test
    void deployTimesOutNamingTheStatesSeen() throws Exception {
        Path archive = bundle(true);
        pushAndRegister(201, "{'types':[]}", 1);
        answer("GET /v1/instances?type=" + TYPE, 200, instances(instance(I1, "n1", "preparing", "")),
                instances(instance(I1, "n1", "initializing", "")));
        Run r = run("deploy", archive.toString(), "--timeout", "1200ms");
        assertEquals(1, r.exit());
        assertEquals("smalti deploy: timed out after 1s waiting for 1 available instance of echo 1.0: "
                + "now 1 initializing; states seen: preparing, initializing", r.err().strip());
    }

    @Test
    void deployNoWaitStopsAfterRegistering() throws Exception {
        Path archive = bundle(true);
        pushAndRegister(201, "{'types':[]}", 3);
        Run r = run("deploy", archive.toString(), "--count", "3", "--no-wait");
        assertEquals(0, r.exit(), r.err());
        assertEquals(3, received.size(), received.toString());
        assertTrue(r.out().endsWith("(desired 3)" + System.lineSeparator()), r.out());
    }

    @Test
    void deployNeedsTheSignatureNextToTheBundle() throws Exception {
        Path archive = bundle(false);
        Run r = run("deploy", archive.toString());
        assertEquals(1, r.exit());
        assertEquals("smalti deploy: no signature " + dir.resolve("echo-1.0.sig") + " next to " + archive
                + ": build and sign the bundle with smalti bundle build (it writes both)", r.err().strip());
        assertEquals(List.of(), received, "nothing is sent");

        r = run("deploy", dir.resolve("echo.zip").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("BUNDLE must be a .tar.gz archive made by smalti bundle build"), r.err());
    }

    @Test
    void deployReportsARefusedPush() throws Exception {
        Path archive = bundle(true);
        answer("POST /v1/bundles", 400, "{'status':400,'error':'the signature does not verify'}");
        Run r = run("deploy", archive.toString());
        assertEquals(1, r.exit());
        assertEquals("smalti deploy: node at " + base + " answered /v1/bundles with 400: the signature does not verify",
                r.err().strip());
        assertEquals("pushing bundle echo-1.0.tar.gz (5 B)... failed", r.out().strip());
    }

    @Test
    void psShowsShortIdsUptimeAndMemoryAndHidesDestroyed() throws Exception {
        String since = Instant.now().minusSeconds(3 * 3600 + 5 * 60).toString();
        answer("GET /v1/instances", 200, instances(
                instance(I1, "n1", "available", "").replace("'since':null", "'since':'" + since + "'")
                        .replace("'memoryBytes':null", "'memoryBytes':52428800"),
                instance(I2, "n2", "initializing", ""),
                instance(I3, "n3", "destroyed", "")));
        Run r = run("ps");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(
                "INSTANCE      TYPE  NODE  STATE         UPTIME  MEMORY    ADDRESS",
                "0000000000a1  echo  n1    available     3h05m   50.0 MiB  10.0.0.1:9000",
                "0000000000b2  echo  n2    initializing  -       -         -",
                "2 instances (1 destroyed not shown: --all shows them)"), r.lines());

        r = run("ps", "--all", "--no-trunc");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains(I3 + "  echo  n3    destroyed"), r.out());
        assertTrue(r.out().endsWith("3 instances" + System.lineSeparator()), r.out());

        r = run("ps", "--json");
        JsonNode doc = ApiClient.JSON.readTree(r.out());
        assertEquals(2, doc.path("instances").size());
        assertEquals(I1, doc.path("instances").get(0).path("id").asText());
        assertTrue(doc.path("instances").get(0).path("cpuSeconds").isNull());
    }

    @Test
    void psByTypeNameAsksForThatType() {
        answer("GET /v1/types", 200, "{'types':[{'id':'" + TYPE + "','name':'echo','version':'1.0'}]}");
        answer("GET /v1/instances?type=" + TYPE, 200, instances(instance(I1, "n1", "preparing", "")));
        Run r = run("ps", "--type", "echo");
        assertEquals(0, r.exit(), r.err());
        assertEquals("1 instance", r.lines().get(2));
        assertEquals("GET /v1/instances?type=" + TYPE + " null ", received.get(1));
    }

    @Test
    void scaleResolvesANameAndRefusesAnAmbiguousOne() {
        answer("GET /v1/types", 200, "{'types':[{'id':'" + TYPE + "','name':'echo','version':'1.0'},"
                + "{'id':'" + TYPE2 + "','name':'db','version':'2.1'}]}");
        answer("PUT /v1/types/" + TYPE + "/scale", 200, "{'id':'" + TYPE + "','name':'echo','version':'1.0','bundle':'"
                + DIGEST + "','desired':3,'registeredAt':'2024-05-01T10:00:00Z'}");
        Run r = run("scale", "echo", "3");
        assertEquals(0, r.exit(), r.err());
        assertEquals("type echo 1.0 (" + TYPE + "): desired 3 instances", r.out().strip());
        assertEquals("PUT /v1/types/" + TYPE + "/scale application/json {\"count\":3}", received.get(1));

        answer("GET /v1/types", 200, "{'types':[{'id':'" + TYPE + "','name':'echo','version':'1.0'},"
                + "{'id':'" + TYPE2 + "','name':'echo','version':'1.1'}]}");
        r = run("scale", "echo", "1");
        assertEquals(1, r.exit());
        assertEquals("smalti scale: 'echo' names 2 types, give its id: " + TYPE + " (echo 1.0), " + TYPE2
                + " (echo 1.1)", r.err().strip());

        r = run("scale", "web", "1");
        assertEquals(1, r.exit());
        assertEquals("smalti scale: no type named 'web' (types: echo)", r.err().strip());

        // An id is used as it is, without a look-up.
        received.clear();
        answer("PUT /v1/types/" + TYPE2 + "/scale", 200, "{'id':'" + TYPE2 + "','name':'echo','version':'1.1',"
                + "'desired':0}");
        r = run("scale", TYPE2, "0");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, received.size());
        assertEquals(2, run("scale", "echo", "-1").exit());
    }

    @Test
    void scaleAndDeployRefuseACountTheApiWouldRefuseBeforeSendingAnything() throws Exception {
        Path archive = bundle(true);
        Map<List<String>, String> refused = Map.of(
                List.of("scale", "echo", "-1"), "N must be a whole number from 0 to 1000, got -1",
                List.of("scale", TYPE, "1001"), "N must be a whole number from 0 to 1000, got 1001",
                List.of("deploy", archive.toString(), "--count", "-1"), "--count must be a whole number from 0 to 1000, got -1",
                List.of("deploy", archive.toString(), "--count", "1001"), "--count must be a whole number from 0 to 1000, got 1001");
        refused.forEach((args, message) -> {
            Run r = run(args.toArray(String[]::new));
            assertEquals(2, r.exit(), args + ": " + r.err());
            assertEquals(message, r.err().lines().findFirst().orElse(""), args.toString());
        });
        assertEquals(List.of(), received, "nothing is sent");

        answer("PUT /v1/types/" + TYPE + "/scale", 200, "{'id':'" + TYPE + "','name':'echo','version':'1.0','desired':1000}");
        Run r = run("scale", TYPE, "1000");
        assertEquals(0, r.exit(), r.err());
        assertEquals("PUT /v1/types/" + TYPE + "/scale application/json {\"count\":1000}", received.get(0));
    }

    @Test
    void destroyTerminatesInstancesOrATypeAndWantsFullIds() throws Exception {
        answer("DELETE /v1/instances/" + I1, 202, "{'id':'" + I1 + "','state':'stopping'}");
        answer("DELETE /v1/instances/" + I2 + "?force=true", 202, "{'id':'" + I2 + "','state':'destroying'}");
        Run r = run("destroy", I1);
        assertEquals(0, r.exit(), r.err());
        assertEquals(I1 + ": stopping", r.out().strip());
        r = run("destroy", I2, "--force", "--json");
        assertEquals(0, r.exit(), r.err());
        assertEquals("destroying", ApiClient.JSON.readTree(r.out()).path("instances").get(0).path("state").asText());

        // One refused: the others are still terminated, exit 1.
        r = run("destroy", I3, I1);
        assertEquals(1, r.exit());
        assertEquals(I1 + ": stopping", r.out().strip());
        assertTrue(r.err().startsWith("smalti destroy: node at " + base + " answered /v1/instances/" + I3 + " with 404"),
                r.err());

        received.clear();
        r = run("destroy", "0000000000a1");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("'0000000000a1' is not an instance id: give the full id, 40 hex digits"), r.err());
        assertEquals(List.of(), received);
        assertEquals(2, run("destroy").exit());
        assertEquals(2, run("destroy", "--type", "echo", I1).exit());

        answer("GET /v1/types", 200, "{'types':[{'id':'" + TYPE + "','name':'echo','version':'1.0'}]}");
        answer("DELETE /v1/types/" + TYPE, 200, "{'id':'" + TYPE + "','unregistered':true}");
        r = run("destroy", "--type", "echo");
        assertEquals(0, r.exit(), r.err());
        assertEquals("unregistered type " + TYPE + "; its instances are being terminated", r.out().strip());
    }

    @Test
    void typesAndBundlesTables() {
        answer("GET /v1/types", 200, "{'types':[{'id':'" + TYPE + "','name':'echo','version':'1.0','bundle':'" + DIGEST
                + "','desired':3,'instances':3,'available':2,'registeredAt':'2024-05-01T10:00:00Z'}]}");
        Run r = run("types");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("ID            NAME  VERSION  BUNDLE        DESIRED  AVAILABLE/INSTANCES",
                "4444aaaabbbb  echo  1.0      0123456789ab  3        2/3", "1 type"), r.lines());

        answer("GET /v1/bundles", 200, "{'bundles':[{'digest':'" + DIGEST + "','name':'echo','version':'1.0',"
                + "'size':1992294,'signedBy':'dev@example','storedAt':'2024-05-01T10:00:00Z'}]}");
        r = run("bundles");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("DIGEST        NAME  VERSION  SIZE     SIGNED BY    STORED",
                "0123456789ab  echo  1.0      1.9 MiB  dev@example  2024-05-01T10:00:00Z", "1 bundle"), r.lines());
    }

    @Test
    void nodeDrainAndUndrain() {
        answer("POST /v1/nodes/n2/drain", 202, "{'node':'n2','state':'unavailable','moving':4}");
        Run r = run("node", "drain", "n2");
        assertEquals(0, r.exit(), r.err());
        assertEquals("node n2 is unavailable; moving 4 instances to other nodes", r.out().strip());
        assertEquals("POST /v1/nodes/n2/drain null ", received.get(0));

        answer("POST /v1/nodes/n2/undrain", 200, "{'node':'n2','state':'available'}");
        r = run("node", "undrain", "n2");
        assertEquals(0, r.exit(), r.err());
        assertEquals("node n2 is available", r.out().strip());

        // An unknown node: the API's explanation alone, which names the nodes it knows.
        answer("POST /v1/nodes/n9/undrain", 404, "{'status':404,'error':'no node n9 is known: the nodes are n1, n2'}");
        r = run("node", "undrain", "n9");
        assertEquals(1, r.exit());
        assertEquals("smalti node undrain: no node n9 is known: the nodes are n1, n2", r.err().strip());

        // Any other failure still says which node answered.
        answer("POST /v1/nodes/n2/drain", 503, "{'status':503,'error':'not enough replicas'}");
        r = run("node", "drain", "n2");
        assertEquals(1, r.exit());
        assertEquals("smalti node drain: node at " + base + " answered /v1/nodes/n2/drain with 503: not enough replicas",
                r.err().strip());
    }

    @Test
    void nodesShowsStateAndMetricsWhenTheNodesReportThem() {
        String node1 = "{'name':'n1','address':'127.0.0.1:7355','status':'up','reachable':true,'leader':true,"
                + "'self':true,'vnodes':32,'apiUrl':'http://127.0.0.1:7380','version':'0.1','startedAt':'t1'";
        String node2 = "{'name':'n2','address':'127.0.0.2:7355','status':'up','reachable':true,'leader':false,"
                + "'self':false,'vnodes':32,'apiUrl':null,'version':null,'startedAt':null";
        answer("GET /v1/nodes", 200, "{'leader':'n1','ringEpoch':4,'nodes':[" + node1 + "},"
                + node2 + "}]}");
        Run r = run("nodes");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(
                "NAME        ADDRESS         STATUS  REACHABLE  LEADER  VNODES  API                    VERSION  STARTED",
                "n1 (asked)  127.0.0.1:7355  up      yes        leader  32      http://127.0.0.1:7380  0.1      t1",
                "n2          127.0.0.2:7355  up      yes                32      -                      -        -",
                "2 nodes; ring epoch 4; leader n1"), r.lines());

        answer("GET /v1/nodes", 200, "{'leader':'n1','ringEpoch':4,'nodes':[" + node1 + ",'state':'available',"
                + "'metrics':{'cpus':4,'cpuBusy':0.375,'memTotalBytes':17179869184,'memAvailableBytes':5583457485,"
                + "'load1':1.5,'diskFreeBytes':1,'netRxBytesPerSec':2,'netTxBytesPerSec':3},'instances':3},"
                + node2 + ",'state':'initializing','metrics':null}]}");
        r = run("nodes");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.lines();
        assertTrue(lines.get(0).endsWith("STARTED  STATE         CPU  MEM           LOAD  INSTANCES"), lines.get(0));
        assertTrue(lines.get(1).endsWith("t1       available     38%  5.2/16.0 GiB  1.50  3"), lines.get(1));
        assertTrue(lines.get(2).endsWith("-        initializing  -    -             -     -"), lines.get(2));
    }

    @Test
    void durationsAndSizesReadEasily() {
        assertEquals("45s", Components.human(Duration.ofSeconds(45)));
        assertEquals("3m12s", Components.human(Duration.ofSeconds(192)));
        assertEquals("2h05m", Components.human(Duration.ofMinutes(125)));
        assertEquals("3d04h", Components.human(Duration.ofHours(76)));
        assertEquals("500ms", Components.human(Duration.ofMillis(500)));
        assertEquals("512 B", Components.bytes(512));
        assertEquals("1.9 MiB", Components.bytes(1992294));
        assertEquals("4444aaaabbbb", Components.shortId(TYPE));
        assertEquals("0123456789ab", Components.shortDigest(DIGEST));
        assertEquals("abc", Components.shortDigest("abc"));
    }
}
