package io.smalti.ring.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.smalti.ring.cluster.NodeNames;

/** The settings every cluster node a test runs inside its own JVM needs; tests add theirs in front. */
public final class TestNodeConfig {
    private TestNodeConfig() {}

    /**
     * Node {@code name} on a free loopback port, several per JVM allowed, leaving the JVM alone when it shuts
     * down. No fallbacks: put the library defaults behind the result.
     */
    public static Config of(String name) {
        return ConfigFactory.parseString("""
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = 0
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.cluster.roles = ["%s"]
                pekko.coordinated-shutdown.exit-jvm = off
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                """.formatted(NodeNames.role(name)));
    }
}
