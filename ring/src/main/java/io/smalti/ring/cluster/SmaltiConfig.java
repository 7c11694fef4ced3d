package io.smalti.ring.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * Smalti's settings for the libraries it runs on (Pekko, the JDBC journal). They are not in a
 * {@code reference.conf}: when several jars' reference files set the same key, which one wins depends
 * on classpath order. Layer them above the references: {@code yours.withFallback(SmaltiConfig.libraryDefaults()).withFallback(reference)}.
 */
public final class SmaltiConfig {
    private SmaltiConfig() {}

    /** The ring module's library settings (serializers, journal plugins, Distributed Data). */
    public static Config libraryDefaults() {
        return ConfigFactory.parseResources(SmaltiConfig.class.getClassLoader(), "io/smalti/ring/pekko-defaults.conf");
    }
}
