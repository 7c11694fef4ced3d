package io.smalti.node.security;

import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.TlsContexts;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * One certificate of this node with its key and the cluster CA, and an SSL context presenting it and trusting what
 * chains to the CA (PKIX). Immutable; replaced whole on renewal.
 */
public record TlsMaterial(PrivateKey key, X509Certificate certificate, X509Certificate ca, SSLContext context) {

    public static TlsMaterial of(PrivateKey key, X509Certificate certificate, X509Certificate ca) {
        try {
            return new TlsMaterial(key, certificate, ca, TlsContexts.context("TLSv1.3", key, certificate, ca));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build TLS contexts from the node certificate: " + e, e);
        }
    }

    /**
     * Why a peer certificate that TLS already chained to the CA must still be refused: another cluster, another
     * sub-system than {@code subsystems}, or revoked; empty when it is fine.
     */
    public static Optional<String> refusal(X509Certificate peer, String cluster, Set<String> subsystems,
                                           Set<BigInteger> revoked) {
        Optional<Identity.Named> named = Identity.of(peer);
        if (named.isEmpty()) {
            return Optional.of("certificate subject " + peer.getSubjectX500Principal() + " is not a Smalti identity");
        }
        if (!named.get().cluster().equals(cluster)) {
            return Optional.of("certificate of cluster " + named.get().cluster() + ", not " + cluster);
        }
        if (!subsystems.contains(named.get().identity().subsystem())) {
            return Optional.of("a " + named.get().identity().subsystem() + " certificate (" + named.get().identity()
                    + ") is not accepted here; expected " + String.join(" or ", subsystems));
        }
        if (revoked.contains(peer.getSerialNumber())) {
            return Optional.of("certificate of " + named.get().identity() + " (serial "
                    + peer.getSerialNumber().toString(16) + ") was revoked");
        }
        return Optional.empty();
    }
}
