package io.smalti.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeSettingsTest {
    @TempDir
    Path dir;

    /** Every node needs its cluster's master key file (only its path is read here). */
    private static final com.typesafe.config.Config KEY =
            ConfigFactory.parseString("smalti.credentials.master-key-file = \"/etc/smalti/master.key\"");

    private static com.typesafe.config.Config with(String hocon) {
        return ConfigFactory.parseString(hocon).withFallback(KEY);
    }

    @Test
    void defaultsFormAOneNodeClusterNamedByItsAddress() {
        NodeSettings s = NodeSettings.load(null, KEY);
        assertEquals("127.0.0.1:7355", s.name());
        assertEquals(7380, s.api().port());
        assertEquals(64, s.ring().size());
        assertEquals(3, s.ring().replicas());
        assertEquals(List.of("pekko://smalti@127.0.0.1:7355"), s.config().getStringList("pekko.cluster.seed-nodes"));
        assertEquals(List.of("node-name:127.0.0.1:7355"), s.config().getStringList("pekko.cluster.roles"));
        assertEquals("keep-majority", s.config().getString("pekko.cluster.split-brain-resolver.active-strategy"));
        // Library settings come from Smalti's explicit layer, not from a reference.conf that classpath order could override.
        assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider",
                s.config().getString("pekko.cluster.downing-provider-class"));
        assertEquals("jdbc-journal", s.config().getString("pekko.persistence.journal.plugin"));
        assertTrue(s.config().getString("pekko-persistence-jdbc.shared-databases.smalti.db.url")
                .startsWith("jdbc:h2:file:" + s.dataDir().resolve("journal")));
        assertEquals("h2 " + s.dataDir().resolve("journal.mv.db"), s.journal());
        // Request bodies: 1 MiB for JSON, 256 MiB for a bundle push (docs/bundles.md), extraction bounded too.
        assertEquals(1L << 20, s.apiMaxBody());
        var components = s.config().getConfig("smalti.components");
        assertEquals(256L << 20, ComponentWiring.maxBundleBytes(components));
        assertEquals(new io.smalti.bundle.Limits(4096, 256L << 20, 1L << 30), ComponentWiring.bundleLimits(components));
        // Security is on by default: TLS between nodes, certificates an hour long, the CA in the data directory.
        assertEquals("tls-tcp", s.config().getString("pekko.remote.artery.transport"));
        assertEquals(java.time.Duration.ofHours(1), s.security().certificateLifetime());
        assertEquals(s.dataDir().resolve("credentials"), s.security().dir());
        assertEquals(Path.of("/etc/smalti/master.key"), s.security().masterKeyFile());
    }

    @Test
    void aNodeWithoutAMasterKeyFileIsRefusedSayingHowToGetOne() {
        String m = assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(null, ConfigFactory.empty()))
                .getMessage();
        assertTrue(m.contains("smalti.credentials.master-key-file is not set") && m.contains("smalti cluster init"), m);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.credentials.certificate-lifetime = 1s")))
                .getMessage().contains("certificate-lifetime must be 10s..30d"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.hub.hello-timeout = 1ms")))
                .getMessage().contains("hello-timeout must be 100ms..5m"));
    }

    @Test
    void fileThenFlagsOverrideTheDefaults() throws Exception {
        Path conf = dir.resolve("node.conf");
        Files.writeString(conf, """
                smalti.node { name = "n2", host = "127.0.0.2", seeds = ["127.0.0.1:7355"] }
                smalti.ring.size = 128
                """);
        NodeSettings s = NodeSettings.load(conf, with("smalti.node.port = 9000"));
        assertEquals("n2", s.name());
        assertEquals("127.0.0.2", s.cluster().host());
        assertEquals(9000, s.cluster().port());
        assertEquals("127.0.0.2", s.api().host(), "the API binds the node's host unless told otherwise");
        assertEquals(128, s.ring().size());
        assertEquals(List.of("pekko://smalti@127.0.0.1:7355"), s.config().getStringList("pekko.cluster.seed-nodes"));
        assertEquals("127.0.0.2", s.config().getString("pekko.remote.artery.canonical.hostname"));
        assertEquals(9000, s.config().getInt("pekko.remote.artery.canonical.port"));
    }

    @Test
    void badSettingsAreNamed() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(dir.resolve("missing.conf"), KEY))
                .getMessage().contains("missing.conf does not exist"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.ring.size = 100")))
                .getMessage().contains("smalti.ring: ring size must be a power of two"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.node.port = 70000")))
                .getMessage().contains("smalti.node.port must be 1..65535, got 70000"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.node.seeds = [\"host\"]")))
                .getMessage().contains("expected host:port, got 'host'"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.storage.journal = mysql")))
                .getMessage().contains("smalti.storage.journal must be \"h2\" or \"postgres\", got \"mysql\""));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, with("smalti.node.name = \"a b\"")))
                .getMessage().contains("must not contain spaces"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, ConfigFactory.parseString("smalti.node.api.max-body = 0")))
                .getMessage().contains("smalti.node.api.max-body must be 1 byte..1 GiB, got 0 bytes"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, ConfigFactory.parseString("smalti.components.bundles.max-size = 0")))
                .getMessage().contains("smalti.components.bundles.max-size must be at least 1 byte, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NodeSettings.load(null, ConfigFactory.parseString("smalti.components.bundles.max-entries = 0")))
                .getMessage().contains("smalti.components.bundles.max-entries must be 1..1000000, got 0"));
        Path broken = dir.resolve("broken.conf");
        Files.writeString(broken, "smalti.node { name = ");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NodeSettings.load(broken, KEY))
                .getMessage().contains("cannot read configuration file"));
    }
}
