package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The hub commands against an in-test node that answers like the REST API of docs/api.md. */
class HubCommandsTest {
    private static final String A = "a".repeat(40);
    private static final String B = "b".repeat(40);
    private static final String C = "c".repeat(40);

    private HttpServer server;
    private String base;
    /** Canned answers by "METHOD raw-path": status and body. */
    private final Map<String, Object[]> answers = new ConcurrentHashMap<>();
    /** What the node received: "METHOD raw-path content-type body". */
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());

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
        String key = ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath();
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        received.add(key + " " + ex.getRequestHeaders().getFirst("Content-Type") + " " + body);
        Object[] a = answers.getOrDefault(key, new Object[] {404, "{\"status\":404,\"error\":\"no route " + key + "\"}"});
        byte[] b = ((String) a[1]).getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders((int) a[0], b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
        ex.close();
    }

    private void answer(String route, int status, String json) {
        answers.put(route, new Object[] {status, json.replace('\'', '"')});
    }

    /** Exit code, stdout and stderr of one command line. */
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

    @Test
    void callShowsOneRowPerResultAndTheTimeTaken() {
        answer("POST /v1/call", 200, "{'target':'echo','asked':3,'tookMicros':1234,'results':["
                + "{'from':'" + A + "','output':{'x':[1,2]},'error':null},"
                + "{'from':'" + B + "','output':'two\\nlines','error':null},"
                + "{'from':'" + C + "','output':null,'error':{'code':'FAILED','message':'busy'}}]}");
        Run r = run("call", "echo", "echo", "--all", "--input", "{\"a\": [1, 2]}", "--timeout", "2s");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(
                "FROM                                      OUTPUT       ERROR",
                A + "  {\"x\":[1,2]}  -",
                B + "  two\\nlines   -",
                C + "  -            FAILED: busy",
                "3 answers from 3 asked in 1.23ms"), r.lines());
        // The input is sent as compact JSON, the timeout in milliseconds, the selector spelled out.
        assertEquals(List.of("POST /v1/call application/json {\"target\":\"echo\",\"selector\":\"all\",\"object\":\"\","
                + "\"operation\":\"echo\",\"input\":{\"a\":[1,2]},\"timeoutMs\":2000}"), received);
    }

    @Test
    void callDefaultsToNullInputOneMemberAndFiveSeconds() {
        answer("POST /v1/call", 200, "{'target':'" + A + "','asked':1,'tookMicros':2500000,'results':["
                + "{'from':'" + A + "','output':null,'error':null}]}");
        Run r = run("call", A, "ping", "--object", "queue/1");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("FROM                                      OUTPUT  ERROR", A + "  null    -",
                "1 answer from 1 asked in 2.50s"), r.lines());
        assertEquals("POST /v1/call application/json {\"target\":\"" + A + "\",\"selector\":\"any\",\"object\":\"queue/1\","
                + "\"operation\":\"ping\",\"input\":null,\"timeoutMs\":5000}", received.get(0));
    }

    @Test
    void callFailsWhenEveryResultIsAnErrorOrNobodyAnswered() {
        answer("POST /v1/call", 200, "{'target':'echo','asked':1,'tookMicros':10,'results':["
                + "{'from':'" + A + "','output':null,'error':{'code':'FAILED','message':'no such operation'}}]}");
        Run r = run("call", "echo", "nope");
        assertEquals(1, r.exit());
        assertEquals("smalti call: the call failed: FAILED: no such operation", r.err().strip());
        assertTrue(r.out().contains("FAILED: no such operation"), r.out());

        answer("POST /v1/call", 200, "{'target':'echo','asked':2,'tookMicros':10,'results':["
                + "{'from':'" + A + "','output':null,'error':{'code':'FAILED','message':'x'}},"
                + "{'from':'" + B + "','output':null,'error':{'code':'EXPIRED','message':''}}]}");
        r = run("call", "echo", "nope", "--all");
        assertEquals(1, r.exit());
        assertEquals("smalti call: every answer is an error", r.err().strip());
        assertTrue(r.out().contains(B + "  -       EXPIRED"), r.out());

        answer("POST /v1/call", 200, "{'target':'echo','asked':2,'tookMicros':10,'results':[]}");
        r = run("call", "echo", "slow", "--all", "--timeout", "500ms");
        assertEquals(1, r.exit());
        assertEquals("smalti call: no answer from the 2 asked within 500.00ms", r.err().strip());
    }

    @Test
    void hubErrorsNameTheCodeAndTheReason() {
        answer("POST /v1/call", 404, "{'error':'group echo has no members','code':'NO_MEMBERS'}");
        Run r = run("call", "group:echo", "echo");
        assertEquals(1, r.exit());
        assertEquals("smalti call: node at " + base + " answered /v1/call with 404 NO_MEMBERS: group echo has no members",
                r.err().strip());
        assertEquals("", r.out());

        answer("POST /v1/cast", 503, "{'error':'the hub of n2 is overloaded','code':'OVERLOADED'}");
        r = run("cast", "echo", "echo");
        assertEquals(1, r.exit());
        assertEquals("smalti cast: node at " + base + " answered /v1/cast with 503 OVERLOADED: the hub of n2 is overloaded",
                r.err().strip());
    }

    @Test
    void badInputIsAUsageErrorThatShowsHowToQuoteAString() {
        Run r = run("call", "echo", "echo", "--input", "hello");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("--input is not valid JSON ("), r.err());
        assertTrue(r.err().contains("a string must be quoted, e.g. --input '\"hello\"'"), r.err());
        assertEquals(List.of(), received, "nothing is sent");

        r = run("cast", "echo", "echo", "--input", "");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("--input is empty"), r.err());
    }

    @Test
    void jsonPrintsTheApiDocument() throws Exception {
        String doc = "{'target':'echo','asked':1,'tookMicros':7,'results':[{'from':'" + A
                + "','output':'hi','error':null}]}";
        answer("POST /v1/call", 200, doc);
        Run r = run("call", "echo", "echo", "--json", "--input", "\"hi\"");
        assertEquals(0, r.exit(), r.err());
        assertEquals(ApiClient.JSON.readTree(doc.replace('\'', '"')), ApiClient.JSON.readTree(r.out()));

        answer("GET /v1/groups", 200, "{'groups':[{'name':'echo','members':2}]}");
        r = run("groups", "--json");
        assertEquals(ApiClient.JSON.readTree("{\"groups\":[{\"name\":\"echo\",\"members\":2}]}"),
                ApiClient.JSON.readTree(r.out()));
    }

    @Test
    void castSaysHowManyItWasSentTo() {
        answer("POST /v1/cast", 202, "{'target':'echo','sent':2}");
        Run r = run("cast", "echo", "reload", "--all", "--input", "[1,\"x\"]");
        assertEquals(0, r.exit(), r.err());
        assertEquals("cast reload to echo: sent to 2 components", r.out().strip());
        assertEquals("POST /v1/cast application/json {\"target\":\"echo\",\"selector\":\"all\",\"object\":\"\","
                + "\"operation\":\"reload\",\"input\":[1,\"x\"],\"timeoutMs\":5000}", received.get(0));
    }

    @Test
    void groupsListsGroupsAndMembers() {
        answer("GET /v1/groups", 200, "{'groups':[{'name':'echo','members':2},{'name':'db/primary','members':1}]}");
        Run r = run("groups");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("GROUP       MEMBERS", "echo        2", "db/primary  1", "2 groups"), r.lines());

        // A group name is one path segment: '/' and spaces are percent-encoded.
        answer("GET /v1/groups/db%2Fprimary%20x", 200, "{'name':'db/primary x','members':["
                + "{'component':'" + A + "','node':'n2'},{'component':'" + B + "','node':null}]}");
        r = run("groups", "group:db/primary x");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("COMPONENT                                 NODE", A + "  n2", B + "  (not connected)",
                "db/primary x: 2 members"), r.lines());

        answer("GET /v1/groups/none", 404, "{'error':'no group none','code':'UNKNOWN_TARGET'}");
        r = run("groups", "none");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("answered /v1/groups/none with 404 UNKNOWN_TARGET: no group none"), r.err());
    }

    @Test
    void attrsSetsRemovesThenShows() {
        answer("PUT /v1/attributes/group/echo/calls", 204, "");
        answer("PUT /v1/attributes/group/echo/note", 204, "");
        answer("DELETE /v1/attributes/group/echo/old", 204, "");
        answer("GET /v1/attributes/group/echo", 200, "{'kind':'group','target':'echo','attributes':"
                + "{'note':'line1\\nline2','calls':'18','blob':'base64:AAEC'}}");
        Run r = run("attrs", "group", "echo", "--set", "calls=18", "--set", "note=a=b", "--remove", "old");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("NAME   VALUE", "blob   base64:AAEC", "calls  18", "note   line1\\nline2",
                "group echo: 3 attributes"), r.lines());
        assertEquals(List.of("PUT /v1/attributes/group/echo/calls application/octet-stream 18",
                "PUT /v1/attributes/group/echo/note application/octet-stream a=b",
                "DELETE /v1/attributes/group/echo/old null ",
                "GET /v1/attributes/group/echo null "), received);
    }

    @Test
    void attrsRefusesAnUnknownKindAndStopsAtTheFirstFailedChange() {
        Run r = run("attrs", "process", "echo");
        assertEquals(2, r.exit());
        assertTrue(r.err().startsWith("KIND must be 'component' or 'group', not 'process'"), r.err());

        answer("PUT /v1/attributes/component/" + A + "/load", 403, "{'error':'not allowed','code':'FORBIDDEN'}");
        r = run("attrs", "component", A, "--set", "load=1", "--remove", "x");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("answered /v1/attributes/component/" + A + "/load with 403 FORBIDDEN: not allowed"),
                r.err());
        assertEquals(1, received.size(), "nothing after the failed change");
    }

    @Test
    void timeoutsTakeSecondsOrAUnit() {
        Smalti.DurationConverter c = new Smalti.DurationConverter();
        assertEquals(Duration.ofSeconds(5), c.convert("5"));
        assertEquals(Duration.ofMillis(500), c.convert("0.5"));
        assertEquals(Duration.ofMillis(500), c.convert("500ms"));
        assertEquals(Duration.ofSeconds(5), c.convert("5s"));
        assertEquals(Duration.ofMinutes(2), c.convert("2m"));
        CommandLine.TypeConversionException e = assertThrows(CommandLine.TypeConversionException.class,
                () -> c.convert("soon"));
        assertTrue(e.getMessage().startsWith("'soon' is not a duration"), e.getMessage());
        assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("0s"));
    }
}
