package io.smalti.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HarnessConfigTest {
    static final String ID = "0123456789abcdef0123456789abcdef01234567";
    static String pem;
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void certificate() throws Exception {
        SelfSignedCertificate cert = new SelfSignedCertificate("hub");
        pem = pem(cert);
    }

    static String pem(SelfSignedCertificate cert) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.cert().getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    private ObjectNode valid() {
        ObjectNode root = json.createObjectNode();
        root.put("component", ID);
        root.putObject("hub").put("host", "127.0.0.1").put("port", 7390).put("certificate", pem).put("token", "a-token");
        root.putArray("command").add("true");
        return root;
    }

    private String problem(ObjectNode config) {
        return assertThrows(ConfigException.class, () -> HarnessConfig.parse(json.writeValueAsBytes(config))).getMessage();
    }

    @Test
    void minimalConfigGetsDefaults() throws Exception {
        HarnessConfig c = HarnessConfig.parse(json.writeValueAsBytes(valid()));
        assertEquals(ID, c.component());
        assertEquals("01234567", c.shortId());
        assertEquals(5000, c.graceMillis());
        assertEquals(1 << 20, c.maxFrame());
        assertEquals(100, c.reconnectInitialMillis());
        assertEquals(5000, c.reconnectMaxMillis());
        assertEquals(30_000, c.hubLeaseMillis(), "with the grace, a lost node's instance stops within 60 s");
        assertTrue(c.socket().toString().endsWith("smalti-" + ID + ".sock"));
    }

    @Test
    void theHubLeaseIsConfigurable() throws Exception {
        ObjectNode c = valid();
        c.put("hubLeaseMillis", 45_000);
        assertEquals(45_000, HarnessConfig.parse(json.writeValueAsBytes(c)).hubLeaseMillis());
        c.put("hubLeaseMillis", 50);
        assertEquals("hubLeaseMillis: 50 is out of range [100, 3600000]", problem(c));
        c.put("hubLeaseMillis", "30s");
        assertEquals("hubLeaseMillis: expected an integer", problem(c));
    }

    @Test
    void certificateMayComeFromAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tls.crt");
        Files.writeString(file, pem);
        ObjectNode config = valid();
        ((ObjectNode) config.get("hub")).remove("certificate");
        ((ObjectNode) config.get("hub")).put("certificateFile", file.toString());
        assertEquals("CN=hub", HarnessConfig.parse(json.writeValueAsBytes(config)).hubCertificate().getSubjectX500Principal().getName());
    }

    @Test
    void errorsNameTheField() {
        ObjectNode c = valid();
        c.remove("component");
        assertEquals("component: missing", problem(c));

        c = valid();
        c.put("component", "ABC");
        assertTrue(problem(c).startsWith("component: expected 40 lowercase hex digits"));

        c = valid();
        ((ObjectNode) c.get("hub")).put("port", 70000);
        assertEquals("hub.port: 70000 is out of range [1, 65535]", problem(c));

        c = valid();
        ((ObjectNode) c.get("hub")).remove("host");
        assertEquals("hub.host: missing", problem(c));

        c = valid();
        ((ObjectNode) c.get("hub")).remove("certificate");
        assertTrue(problem(c).startsWith("hub.certificate: missing"));

        c = valid();
        ((ObjectNode) c.get("hub")).put("certificate", "garbage");
        assertTrue(problem(c).startsWith("hub.certificate: not a PEM X.509 certificate"));

        c = valid();
        c.putArray("command");
        assertEquals("command: expected a non-empty array of strings", problem(c));

        c = valid();
        c.putArray("command").add("java").add(3);
        assertEquals("command[1]: expected a string", problem(c));

        c = valid();
        c.put("graceMilis", 5);
        assertTrue(problem(c).startsWith("graceMilis: unknown field"));

        c = valid();
        c.putObject("reconnect").put("initialMillis", 500).put("maxMillis", 100);
        assertTrue(problem(c).startsWith("reconnect.maxMillis: smaller than"));

        c = valid();
        c.put("socket", "/tmp/" + "x".repeat(120));
        assertTrue(problem(c).startsWith("socket: path"));

        c = valid();
        c.putObject("environment").put("A", 1);
        assertEquals("environment.A: expected a string", problem(c));

        c = valid();
        c.put("graceMillis", new java.math.BigInteger("99999999999999999999999"));
        assertEquals("graceMillis: expected an integer", problem(c));

        c = valid();
        c.put("maxFrame", 2048.5);
        assertEquals("maxFrame: expected an integer", problem(c));
    }

    @Test
    void notJsonIsReported() {
        ConfigException e = assertThrows(ConfigException.class, () -> HarnessConfig.parse("{nope".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("configuration: not valid JSON"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> HarnessConfig.parse(new byte[0]));
        assertTrue(e.getMessage().startsWith("configuration: empty"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> HarnessConfig.parse("[1]".getBytes(StandardCharsets.UTF_8)));
        assertEquals("configuration: expected a JSON object", e.getMessage());
        e = assertThrows(ConfigException.class, () -> HarnessConfig.parse("{} {}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("configuration: not valid JSON: more after"), e.getMessage());
        // A field given twice is refused rather than the last one silently winning.
        e = assertThrows(ConfigException.class, () -> HarnessConfig.parse(
                "{\"hub\": {\"port\": 1, \"port\": 2}}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("hub.port: given twice", e.getMessage());
    }

    @Test
    void aProgramNameIsLookedUpInTheComponentsPath(@TempDir Path dir) throws Exception {
        // Containers put their runtime outside the harness's own PATH: the component's PATH must count.
        Path bin = Files.createDirectories(dir.resolve("runtime-bin"));
        Path program = bin.resolve("smalti-test-program");
        Path marker = dir.resolve("ran");
        Files.writeString(program, "#!/bin/sh\necho ran > '" + marker + "'\n");
        program.toFile().setExecutable(true);
        ObjectNode config = valid();
        config.putArray("command").add("smalti-test-program");
        config.putObject("environment").put("PATH", bin + ":/usr/bin:/bin");
        config.put("socket", dir.resolve("s.sock").toString());
        ComponentProcess p = ComponentProcess.start(HarnessConfig.parse(json.writeValueAsBytes(config)));
        assertEquals(0, p.process().waitFor());
        assertEquals("ran", Files.readString(marker).trim());
    }
}
