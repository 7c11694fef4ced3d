package io.smalti.cli;

import io.smalti.credentials.ca.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * The CLI's TLS identity for the REST API: an operator's (or viewer's) certificate and key, and the cluster CA it
 * trusts the nodes by. Found, in this order: {@code --cert/--key/--ca}; the local cluster's {@code operator/} when
 * {@code --state-dir} is given; the configuration directory ({@code $SMALTI_CONFIG_DIR}, else
 * {@code $XDG_CONFIG_HOME/smalti}, else {@code ~/.config/smalti}: {@code operator.pem}, {@code operator-key.pem},
 * {@code ca.pem}); the default local cluster's {@code operator/}. Immutable.
 */
record ClientTls(Path certificate, Path key, Path ca) {
    static final String CERT_FILE = "operator.pem";
    static final String KEY_FILE = "operator-key.pem";
    static final String CA_FILE = "ca.pem";

    /** The identity in {@code dir} (operator.pem, operator-key.pem, ca.pem). */
    static ClientTls in(Path dir) {
        return new ClientTls(dir.resolve(CERT_FILE), dir.resolve(KEY_FILE), dir.resolve(CA_FILE));
    }

    boolean exists() {
        return Files.isRegularFile(certificate) && Files.isRegularFile(key) && Files.isRegularFile(ca);
    }

    /** {@code $SMALTI_CONFIG_DIR}, else {@code $XDG_CONFIG_HOME/smalti}, else {@code ~/.config/smalti}. */
    static Path configDir() {
        String env = System.getenv("SMALTI_CONFIG_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("smalti");
    }

    /**
     * Resolves the identity by the documented order.
     *
     * @throws Smalti.Failure when flags are incomplete
     */
    static Optional<ClientTls> resolve(Path cert, Path key, Path ca, Path stateDir) {
        if (cert != null || key != null) {
            if (cert == null || key == null) {
                throw new Smalti.Failure("give both --cert and --key (and --ca, unless ca.pem is beside the certificate)");
            }
            Path caFile = ca != null ? ca : cert.toAbsolutePath().resolveSibling(CA_FILE);
            return Optional.of(new ClientTls(cert, key, caFile));
        }
        if (stateDir != null && LocalCluster.operatorDir(stateDir).toFile().isDirectory()) {
            return Optional.of(in(LocalCluster.operatorDir(stateDir)));
        }
        ClientTls config = in(configDir());
        if (config.exists()) {
            return Optional.of(config);
        }
        ClientTls local = in(LocalCluster.operatorDir(LocalCluster.defaultStateDir()));
        return local.exists() ? Optional.of(local) : Optional.empty();
    }

    /**
     * An SSL context presenting this certificate and trusting only the cluster CA.
     *
     * @throws Smalti.Failure naming the file that cannot be read
     */
    SSLContext context() {
        try {
            X509Certificate own = Pem.parseCertificate(read(certificate, "certificate"));
            X509Certificate caCert = Pem.parseCertificate(read(ca, "cluster CA certificate"));
            PrivateKey privateKey = Pem.parsePrivateKey(new String(read(key, "key"), StandardCharsets.US_ASCII));
            return io.smalti.credentials.ca.TlsContexts.context("TLS", privateKey, own, caCert);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new Smalti.Failure("cannot use the operator certificate " + certificate + ": " + e.getMessage());
        }
    }

    private static byte[] read(Path file, String what) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Smalti.Failure("cannot read the " + what + " " + file + ": " + e.getMessage());
        }
    }
}
