package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ApiClientTest {
    private HttpServer server;
    private String base;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/ok", ex -> reply(ex, 200, "{\"epoch\":7}"));
        server.createContext("/busy", ex -> reply(ex, 503, "{\"status\":503,\"error\":\"no ring yet\"}"));
        server.createContext("/html", ex -> reply(ex, 200, "<html>"));
        server.createContext("/slow", ex -> {
            try {
                Thread.sleep(1500);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            reply(ex, 200, "{}");
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void reply(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Test
    void readsJson() throws Exception {
        assertEquals(7, new ApiClient(Duration.ofSeconds(2)).get(base + "/", "/ok").path("epoch").asInt());
    }

    @Test
    void errorsNameTheNodeAndTheProblem() {
        ApiClient api = new ApiClient(Duration.ofMillis(500));
        ApiClient.ApiException e = assertThrows(ApiClient.ApiException.class, () -> api.get(base, "/busy"));
        assertEquals("node at " + base + " answered /busy with 503: no ring yet", e.getMessage());
        assertEquals(503, e.status);

        e = assertThrows(ApiClient.ApiException.class, () -> api.get(base, "/html"));
        assertTrue(e.getMessage().contains("with something that is not JSON"), e.getMessage());

        e = assertThrows(ApiClient.ApiException.class, () -> api.get(base, "/slow"));
        assertTrue(e.getMessage().contains("did not answer /slow within 0.5s"), e.getMessage());

        server.stop(0);
        e = assertThrows(ApiClient.ApiException.class, () -> api.get(base, "/ok"));
        assertTrue(e.getMessage().startsWith("cannot reach a node at " + base), e.getMessage());

        e = assertThrows(ApiClient.ApiException.class, () -> api.get("http://exa mple", "/ok"));
        assertTrue(e.getMessage().startsWith("bad node URL"), e.getMessage());
        e = assertThrows(ApiClient.ApiException.class, () -> api.get("127.0.0.1:7380", "/ok"));
        assertTrue(e.getMessage().startsWith("bad node URL '127.0.0.1:7380'"), e.getMessage());
    }
}
