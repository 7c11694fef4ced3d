package io.smalti.node.security;

import io.smalti.credentials.ca.Identity;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * One certificate of this node with its key and the cluster CA, as JSSE objects: a key manager, a trust manager
 * that accepts what chains to the CA (PKIX), and an SSL context of both. Immutable; replaced whole on renewal.
 */
public record TlsMaterial(PrivateKey key, X509Certificate certificate, X509Certificate ca, SSLContext context,
                          X509TrustManager trust) {

    public static TlsMaterial of(PrivateKey key, X509Certificate certificate, X509Certificate ca) {
        try {
            char[] none = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("node", key, none, new Certificate[] {certificate, ca});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            anchors.setCertificateEntry("cluster-ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(anchors);
            X509TrustManager trust = (X509TrustManager) tmf.getTrustManagers()[0];
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return new TlsMaterial(key, certificate, ca, ctx, trust);
        } catch (GeneralSecurityException | java.io.IOException e) {
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
