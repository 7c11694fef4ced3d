package io.smalti.container;

import io.smalti.bundle.Manifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Helpers for driver tests: ids, tiny bundles, a hub certificate, polling. */
public final class TestBundles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private TestBundles() {
    }

    public static String newId() {
        byte[] b = new byte[20];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A bundle directory with a manifest and one file; the manifest JSON is given without the name/version. */
    public static Path bundle(Path parent, String runAndMore) throws IOException {
        Path root = Files.createTempDirectory(parent, "bundle");
        // As the bundle extractor leaves a template: readable by the containers' mapped ids.
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        String json = "{\"name\":\"test\",\"version\":\"1\"," + runAndMore + "}";
        Files.writeString(root.resolve(Manifest.FILE), json);
        Files.writeString(root.resolve("hello.txt"), "hello from the bundle\n");
        return root;
    }

    public static Manifest manifest(Path bundle) throws IOException {
        return Manifest.parse(Files.readAllBytes(bundle.resolve(Manifest.FILE)));
    }

    public static ContainerSpec spec(String id, Path bundle, String pem) throws IOException {
        return new ContainerSpec(id, bundle, manifest(bundle), "127.0.0.1", 7390, pem, "unused-token", Map.of("TEST_VAR", "yes"),
                Duration.ofSeconds(2));
    }

    /** A self-signed certificate made with the JDK's keytool (the harness checks it parses). */
    public static String certificatePem(Path dir) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Path ks = dir.resolve("hub.p12");
        run(keytool.toString(), "-genkeypair", "-alias", "hub", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=hub", "-validity", "2", "-keystore", ks.toString(), "-storepass", "changeit",
                "-storetype", "PKCS12");
        return run(keytool.toString(), "-exportcert", "-rfc", "-alias", "hub", "-keystore", ks.toString(),
                "-storepass", "changeit");
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Waits until the file exists and is not empty; returns its content or null after the timeout. */
    public static String awaitFile(Path f, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(f) && Files.size(f) > 0) {
                Thread.sleep(20); // let the writer finish its line
                return Files.readString(f);
            }
            Thread.sleep(10);
        }
        return null;
    }

    /** Waits until the file contains the text; returns whether it did. */
    public static boolean awaitText(Path f, String text, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(f) && Files.readString(f).contains(text)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }
}
