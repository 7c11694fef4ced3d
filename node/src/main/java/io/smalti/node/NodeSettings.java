package io.smalti.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.smalti.hub.router.HubSettings;
import io.smalti.ring.cluster.NodeNames;
import io.smalti.ring.cluster.RingSettings;
import io.smalti.ring.cluster.SmaltiConfig;
import io.smalti.ring.vnode.JournalConfig;
import io.smalti.ring.vnode.VnodeSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A node agent's settings: the {@code smalti} section of its configuration, validated, plus the Pekko
 * configuration derived from it. Immutable.
 *
 * @param apiMaxBody the largest request body of the REST API's routes but the bundle push, in bytes
 * @param config the whole resolved configuration the actor system runs with
 */
public record NodeSettings(String clusterName, String name, Path dataDir, HostPort cluster, List<HostPort> seeds,
                           HostPort api, long apiMaxBody, RingSettings ring, VnodeSettings vnode, String journal,
                           Duration leaveHandoffTimeout, HubSettings hub, io.smalti.node.security.SecuritySettings security,
                           Config config) {

    /** A host and TCP port. */
    public record HostPort(String host, int port) {
        /**
         * Parses {@code host:port}.
         *
         * @throws IllegalArgumentException saying what is wrong with the text
         */
        public static HostPort parse(String text) {
            int colon = text == null ? -1 : text.lastIndexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("expected host:port, got '" + text + "'");
            }
            String host = text.substring(0, colon);
            int port;
            try {
                port = Integer.parseInt(text.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("port in '" + text + "' is not a number");
            }
            return of(host, port, "'" + text + "'");
        }

        static HostPort of(String host, int port, String where) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port of " + where + " must be 1..65535, got " + port);
            }
            return new HostPort(host, port);
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    /**
     * Builds the settings from a configuration file (may be null), command-line overrides (dotted paths,
     * e.g. {@code smalti.node.port}) and the defaults in {@code reference.conf}.
     *
     * @throws IllegalArgumentException naming the setting that is missing or wrong
     */
    public static NodeSettings load(Path configFile, Config overrides) {
        Config file = ConfigFactory.empty();
        if (configFile != null) {
            if (!configFile.toFile().isFile()) {
                throw new IllegalArgumentException("configuration file " + configFile + " does not exist");
            }
            try {
                file = ConfigFactory.parseFile(configFile.toFile());
            } catch (ConfigException e) {
                throw new IllegalArgumentException("cannot read configuration file " + configFile + ": " + e.getMessage());
            }
        }
        Config merged = ConfigFactory.defaultOverrides()
                .withFallback(overrides)
                .withFallback(file)
                .withFallback(ConfigFactory.parseResources(NodeSettings.class.getClassLoader(),
                        "io/smalti/node/pekko-defaults.conf"))
                .withFallback(SmaltiConfig.libraryDefaults())
                .withFallback(ConfigFactory.defaultReferenceUnresolved());
        try {
            return from(merged.resolve());
        } catch (ConfigException e) {
            throw new IllegalArgumentException("bad configuration: " + e.getMessage());
        }
    }

    static NodeSettings from(Config c) {
        Config s = c.getConfig("smalti");
        String clusterName = s.getString("cluster-name");
        if (!clusterName.matches("[A-Za-z0-9][A-Za-z0-9_-]*")) {
            throw new IllegalArgumentException("smalti.cluster-name must be letters, digits, '-' or '_', got '" + clusterName + "'");
        }
        HostPort cluster = HostPort.of(s.getString("node.host"), s.getInt("node.port"), "smalti.node.port");
        HostPort api = HostPort.of(s.getString("node.api.host"), s.getInt("node.api.port"), "smalti.node.api.port");
        String name = s.getString("node.name").isBlank() ? cluster.toString() : s.getString("node.name").trim();
        if (name.chars().anyMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch))) {
            throw new IllegalArgumentException("smalti.node.name must not contain spaces or control characters, got '" + name + "'");
        }
        List<HostPort> seeds = new ArrayList<>();
        for (String seed : s.getStringList("node.seeds")) {
            seeds.add(HostPort.parse(seed));
        }
        Path dataDir = Path.of(s.getString("node.data-dir")).toAbsolutePath().normalize();
        RingSettings ring;
        try {
            ring = RingSettings.from(c);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("smalti.ring: " + e.getMessage());
        }
        VnodeSettings vnode;
        Config journalConfig;
        try {
            vnode = VnodeSettings.from(c);
            journalConfig = JournalConfig.from(s.getConfig("storage"), dataDir);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("smalti." + (e.getMessage().startsWith("smalti.") ? e.getMessage()
                    .substring("smalti.".length()) : "vnode: " + e.getMessage()));
        }
        String journal = s.getString("storage.journal").equals("h2")
                ? "h2 " + dataDir.resolve("journal.mv.db") : "postgres " + s.getString("storage.postgres.url");
        List<String> seedUris = seeds.stream()
                .map(h -> "pekko://" + clusterName + "@" + h.host() + ":" + h.port()).toList();
        Config pekko = ConfigFactory.empty()
                .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(cluster.host()))
                .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(cluster.port()))
                .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(
                        seedUris.isEmpty() ? List.of("pekko://" + clusterName + "@" + cluster) : seedUris))
                .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(NodeNames.role(name))))
                // Outbound cluster connections leave from this node's own address (firewall rules and
                // partition tests can then tell nodes apart even on one machine).
                .withValue("pekko.remote.artery.advanced.tcp.outbound-client-hostname",
                        ConfigValueFactory.fromAnyRef(cluster.host()))
                // The handoff before a graceful leave must fit in the phase that runs it.
                .withValue("pekko.coordinated-shutdown.phases.before-cluster-shutdown.timeout",
                        ConfigValueFactory.fromAnyRef(s.getDuration("node.leave-handoff-timeout").plusSeconds(10)));
        HubSettings hub = hubSettings(s.getConfig("hub"));
        long apiMaxBody = s.getBytes("node.api.max-body");
        if (apiMaxBody < 1 || apiMaxBody > 1L << 30) {
            throw new IllegalArgumentException("smalti.node.api.max-body must be 1 byte..1 GiB, got " + apiMaxBody + " bytes");
        }
        // Read when the components start, after the journal: checked here too, so that a bad one stops the start at once.
        ComponentWiring.bundleLimits(s.getConfig("components"));
        ComponentWiring.maxBundleBytes(s.getConfig("components"));
        io.smalti.node.security.SecuritySettings security = io.smalti.node.security.SecuritySettings.from(s, dataDir);
        return new NodeSettings(clusterName, name, dataDir, cluster, List.copyOf(seeds), api, apiMaxBody, ring, vnode, journal,
                s.getDuration("node.leave-handoff-timeout"), hub, security,
                pekko.withFallback(journalConfig).withFallback(c).resolve());
    }

    private static HubSettings hubSettings(Config h) {
        HostPort at = HostPort.of(h.getString("host"), h.getInt("port"), "smalti.hub.port");
        long maxFrame = h.getBytes("max-frame");
        if (maxFrame < 1024 || maxFrame > 64 << 20) {
            throw new IllegalArgumentException("smalti.hub.max-frame must be 1 KiB..64 MiB, got " + maxFrame + " bytes");
        }
        long high = h.getBytes("queue-high-water");
        long low = h.getBytes("queue-low-water");
        if (low <= 0 || low > high || high > 1 << 30) {
            throw new IllegalArgumentException("smalti.hub.queue-low-water must be positive and at most queue-high-water (at most 1 GiB)");
        }
        int ioThreads = h.getInt("io-threads");
        if (ioThreads < 0 || ioThreads > 256) {
            throw new IllegalArgumentException("smalti.hub.io-threads must be 0 (half the processors) .. 256, got " + ioThreads);
        }
        java.time.Duration hello = h.getDuration("hello-timeout");
        if (hello.compareTo(java.time.Duration.ofMillis(100)) < 0 || hello.compareTo(java.time.Duration.ofMinutes(5)) > 0) {
            throw new IllegalArgumentException("smalti.hub.hello-timeout must be 100ms..5m, got " + hello);
        }
        return new HubSettings(at.host(), at.port(), (int) maxFrame, h.getDuration("default-timeout"), (int) high, (int) low,
                h.getDuration("terminate-grace"), h.getDuration("group-cache-ttl"), ioThreads, hello);
    }
}
