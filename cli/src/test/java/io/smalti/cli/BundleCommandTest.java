package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.smalti.bundle.BundleArchive;
import io.smalti.bundle.BundleSignature;
import io.smalti.bundle.TrustedKey;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** smalti keys and smalti bundle, on files in a temporary directory and an in-test node. */
class BundleCommandTest {
    @TempDir
    Path temp;

    private record Run(int exit, String out, String err) {
        /** The value of a "label:  value" line. */
        String value(String label) {
            for (String line : out.split("\\R")) {
                if (line.startsWith(label + ":")) {
                    return line.substring(label.length() + 1).strip();
                }
            }
            throw new AssertionError("no " + label + " in " + out);
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Smalti.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    private Path bundleDir() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("src/lib"));
        Files.writeString(dir.resolve("app.txt"), "hello");
        Files.writeString(dir.getParent().resolve("bundle.json"), "{\"name\":\"echo\",\"version\":\"1.2\","
                + "\"run\":{\"command\":[\"java\",\"-cp\",\"lib/*\",\"Echo\"]},\"groups\":[\"echo\"]}");
        return dir.getParent();
    }

    @Test
    void keysCreateAndShow() throws Exception {
        Path key = temp.resolve("conf/developer.key");
        Run r = run("keys", "create", "--file", key.toString());
        assertEquals(0, r.exit(), r.err());
        String id = r.value("key id");
        assertTrue(id.matches("[0-9a-f]{16}"), id);
        assertEquals(key + ".pub", r.value("public"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertEquals(id, TrustedKey.load(Path.of(key + ".pub")).id());

        r = run("keys", "show", "--file", key.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(id, r.value("key id"));
        assertTrue(r.out().contains(Files.readString(Path.of(key + ".pub")).strip()), r.out());

        r = run("keys", "create", "--file", key.toString());
        assertEquals(1, r.exit());
        assertEquals("smalti keys create: " + key + " exists: not replacing a key (smalti keys show prints it)",
                r.err().strip());
        r = run("keys", "show", "--file", temp.resolve("none").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("create one with smalti keys create"), r.err());
    }

    @Test
    void defaultKeyFileFollowsXdgConfigHome() {
        assertEquals(Path.of("/x/conf/smalti/developer.key"),
                KeysCommand.defaultKeyFile(Map.of("XDG_CONFIG_HOME", "/x/conf")));
        assertEquals(Path.of(System.getProperty("user.home"), ".config/smalti/developer.key"),
                KeysCommand.defaultKeyFile(Map.of()));
    }

    @Test
    void buildThenInspect() throws Exception {
        Path key = temp.resolve("k");
        assertEquals(0, run("keys", "create", "--file", key.toString()).exit());
        Path out = temp.resolve("out");
        Run r = run("bundle", "build", bundleDir().toString(), "--out", out.toString(), "--key", key.toString());
        assertEquals(0, r.exit(), r.err());
        Path archive = out.resolve("echo-1.2.tar.gz");
        byte[] bytes = Files.readAllBytes(archive);
        assertEquals(BundleArchive.digest(bytes), r.value("digest"));
        assertEquals("echo", r.value("name"));
        assertEquals("1.2", r.value("version"));
        assertEquals(String.valueOf(bytes.length), r.value("size"));
        BundleSignature sig = BundleSignature.parse(Files.readAllBytes(out.resolve("echo-1.2.sig")));
        BundleSignature.verify(bytes, sig, List.of(TrustedKey.load(Path.of(key + ".pub"))));

        Run again = run("bundle", "build", bundleDir().toString(), "--out", out.toString(), "--key", key.toString());
        assertEquals(r.value("digest"), again.value("digest")); // reproducible

        r = run("bundle", "inspect", archive.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(BundleArchive.digest(bytes), r.value("digest"));
        assertEquals(sig.key(), r.value("signed by"));
        assertTrue(r.out().contains("\"groups\" : [ \"echo\" ]"), r.out());

        r = run("bundle", "inspect", "--json", archive.toString());
        assertEquals(0, r.exit(), r.err());
        var json = ApiClient.JSON.readTree(r.out());
        assertEquals(BundleArchive.digest(bytes), json.path("digest").asText());
        assertEquals("echo", json.path("manifest").path("name").asText());

        r = run("bundle", "build", temp.toString(), "--out", out.toString(), "--key", key.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("smalti bundle build: " + temp + ": no bundle.json"), r.err());
        r = run("bundle", "build", bundleDir().toString(), "--key", temp.resolve("nokey").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("create one with smalti keys create"), r.err());
    }

    @Test
    void pushSendsTheArchiveAndItsSignature() throws Exception {
        Path key = temp.resolve("k");
        run("keys", "create", "--file", key.toString());
        Path out = temp.resolve("out");
        assertEquals(0, run("bundle", "build", bundleDir().toString(), "--out", out.toString(), "--key",
                key.toString()).exit());
        Path archive = out.resolve("echo-1.2.tar.gz");
        byte[] bytes = Files.readAllBytes(archive);
        String digest = BundleArchive.digest(bytes);

        Map<String, Object> got = new ConcurrentHashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/bundles", ex -> {
            got.put("method", ex.getRequestMethod());
            got.put("type", ex.getRequestHeaders().getFirst("Content-Type"));
            got.put("signature", ex.getRequestHeaders().getFirst("Smalti-Signature"));
            got.put("body", ex.getRequestBody().readAllBytes());
            byte[] b = ("{\"digest\":\"" + digest + "\",\"name\":\"echo\",\"version\":\"1.2\",\"size\":" + bytes.length
                    + "}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(201, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Run r = run("bundle", "push", archive.toString(), "--node", base);
            assertEquals(0, r.exit(), r.err());
            assertEquals(List.of("DIGEST" + " ".repeat(60) + "NAME  VERSION  SIZE",
                    digest + "  echo  1.2      " + bytes.length), List.of(r.out().split("\\R")));
            assertEquals("POST", got.get("method"));
            assertEquals("application/octet-stream", got.get("type"));
            assertArrayEquals(bytes, (byte[]) got.get("body"));
            assertArrayEquals(Files.readAllBytes(out.resolve("echo-1.2.sig")),
                    Base64.getDecoder().decode((String) got.get("signature")));

            r = run("bundle", "push", archive.toString(), "--node", base, "--json");
            assertEquals(digest, ApiClient.JSON.readTree(r.out()).path("digest").asText());

            Files.delete(out.resolve("echo-1.2.sig"));
            r = run("bundle", "push", archive.toString(), "--node", base);
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("no signature " + out.resolve("echo-1.2.sig")), r.err());
        } finally {
            server.stop(0);
        }
    }

    /** A raw HTTP node on a loopback port: {@code answer} gets the request's head and the socket. */
    private interface RawNode {
        String answer(String head, java.net.Socket socket) throws java.io.IOException;
    }

    private static java.util.concurrent.CompletableFuture<String> serveOnce(java.net.ServerSocket listener, RawNode node) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (java.net.Socket s = listener.accept()) {
                var in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    head.append((char) in.read());
                }
                return node.answer(head.toString(), s);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** A node that refuses the archive's size (413): the user reads the node's error. */
    @Test
    void aPushRefusedForItsSizeShowsTheNodesError() throws Exception {
        Path archive = temp.resolve("big-1.0.tar.gz");
        Files.write(archive, new byte[3000]);
        Files.writeString(temp.resolve("big-1.0.sig"), "{}");
        try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            var seen = serveOnce(listener, (head, s) -> {
                s.getInputStream().readNBytes(3000);
                byte[] body = "{\"status\":413,\"error\":\"request body of 2.9 KiB is over this route's limit of 1 KiB\"}"
                        .getBytes(StandardCharsets.UTF_8);
                s.getOutputStream().write(("HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().write(body);
                s.getOutputStream().flush();
                return head;
            });
            Run r = run("bundle", "push", archive.toString(), "--node", "http://127.0.0.1:" + listener.getLocalPort());
            assertEquals(1, r.exit(), r.out());
            assertTrue(r.err().contains("answered /v1/bundles with 413: request body of 2.9 KiB is over this route's"
                    + " limit of 1 KiB"), r.err());
            assertTrue(seen.get(10, java.util.concurrent.TimeUnit.SECONDS).toLowerCase(java.util.Locale.ROOT)
                    .contains("content-length: 3000"));
        }
    }

    /**
     * A node that closes the connection of a body over its limit before the client sent it whole (and before the
     * client read its 413, which can happen): the user is told what that likely means. The archive, a sparse 64 MiB
     * file, is read as it is sent.
     */
    @Test
    void aPushCutOffWhileSendingSaysTheNodeMayRefuseItsSize() throws Exception {
        Path archive = temp.resolve("big-1.0.tar.gz");
        try (var f = new java.io.RandomAccessFile(archive.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        Files.writeString(temp.resolve("big-1.0.sig"), "{}");
        try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            var seen = serveOnce(listener, (head, s) -> {
                s.setSoLinger(true, 0); // reset, as a close with unread bytes does
                return head;
            });
            Run r = run("bundle", "push", archive.toString(), "--node", "http://127.0.0.1:" + listener.getLocalPort());
            assertEquals(1, r.exit(), r.out());
            assertTrue(r.err().contains("; the node closed the connection while the 64.0 MiB of big-1.0.tar.gz were sent,"
                    + " as it does when a body is over its limit (a bundle's: smalti.components.bundles.max-size, 256 MiB"
                    + " by default)"), r.err());
            assertTrue(seen.get(10, java.util.concurrent.TimeUnit.SECONDS).toLowerCase(java.util.Locale.ROOT)
                    .contains("content-length: " + (64L << 20)));
        }
    }
}
