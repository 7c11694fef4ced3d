package io.smalti.node.security;

import com.typesafe.config.Config;
import io.smalti.credentials.ca.KeyAlgorithm;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code smalti.credentials} settings of a node: where its credentials service keeps the cluster CA and secrets,
 * the master key file, certificate lifetime and token expiry. Immutable.
 */
public record SecuritySettings(Path dir, Path masterKeyFile, Duration certificateLifetime, Duration tokenExpiry,
                               KeyAlgorithm keyAlgorithm, Duration crlRefresh, Duration operatorLifetime) {

    /** Reads {@code smalti.credentials}; a relative or empty directory is taken under {@code dataDir}. */
    public static SecuritySettings from(Config s, Path dataDir) {
        Config c = s.getConfig("credentials");
        String dir = c.getString("dir");
        String key = c.getString("master-key-file");
        if (key.isBlank()) {
            throw new IllegalArgumentException("smalti.credentials.master-key-file is not set: a node needs its cluster's "
                    + "master key file (made by `smalti cluster init`, or by `smalti cluster up` for a local cluster)");
        }
        Duration lifetime = c.getDuration("certificate-lifetime");
        if (lifetime.compareTo(Duration.ofSeconds(10)) < 0 || lifetime.compareTo(Duration.ofDays(30)) > 0) {
            throw new IllegalArgumentException("smalti.credentials.certificate-lifetime must be 10s..30d, got " + lifetime);
        }
        Duration expiry = c.getDuration("token-expiry");
        if (expiry.compareTo(Duration.ofSeconds(1)) < 0 || expiry.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("smalti.credentials.token-expiry must be 1s..1h, got " + expiry);
        }
        Duration crl = c.getDuration("crl-refresh");
        if (crl.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("smalti.credentials.crl-refresh must be at least 100ms, got " + crl);
        }
        Duration operator = c.getDuration("operator-certificate-lifetime");
        if (operator.compareTo(Duration.ofMinutes(1)) < 0 || operator.compareTo(Duration.ofDays(30)) > 0) {
            throw new IllegalArgumentException("smalti.credentials.operator-certificate-lifetime must be 1m..30d, got "
                    + operator);
        }
        return new SecuritySettings(dir.isBlank() ? dataDir.resolve("credentials") : dataDir.resolve(dir).normalize(),
                Path.of(key).toAbsolutePath().normalize(), lifetime, expiry,
                KeyAlgorithm.parse(c.getString("key-algorithm")), crl, operator);
    }

    /** When a certificate of {@code lifetime} is renewed: at two thirds of its life. */
    public static Duration renewAfter(Duration lifetime) {
        return lifetime.multipliedBy(2).dividedBy(3);
    }
}
