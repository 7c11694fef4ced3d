package io.smalti.harness;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a hub whose certificate is a node certificate (O=node) that the cluster CA of the harness configuration
 * signed, within its validity period. The TLS handshake itself proves the hub holds the matching private key.
 * Stateless and thread-safe.
 *
 * <p>Why not the JDK's PKIX trust manager over a one-certificate key store: for one CA and one certificate it checks
 * nothing more here, and building it (key store, PKIX parameters, certificate path classes) cost the harness ~40 ms
 * of its start.
 */
final class CaTrustManager extends X509ExtendedTrustManager {
    private final X509Certificate ca;
    private final byte[] pinned;

    CaTrustManager(X509Certificate ca) {
        this(ca, null);
    }

    /**
     * @param pinned the hub's node certificate when the harness started, or null: presented again, it is trusted by a
     *     byte compare (and its validity); another one (the hub renewed since) is checked against the CA. The CA check
     *     is Java ECDSA, ~250 ms of a cold harness JVM's CPU (docs/benchmarks.md); the compare costs nothing.
     */
    CaTrustManager(X509Certificate ca, X509Certificate pinned) {
        this.ca = ca;
        try {
            this.pinned = pinned == null ? null : pinned.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode the pinned hub certificate", e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the hub sent no certificate");
        }
        X509Certificate leaf = chain[0];
        if (pinned != null && java.util.Arrays.equals(leaf.getEncoded(), pinned)) {
            leaf.checkValidity();
            return; // the configuration's copy came from the node itself, which the CA issued it to
        }
        try {
            leaf.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new CertificateException("the hub's certificate (subject " + leaf.getSubjectX500Principal()
                    + ", issuer " + leaf.getIssuerX500Principal() + ") was not issued by this harness's cluster CA ("
                    + ca.getSubjectX500Principal() + ")");
        }
        leaf.checkValidity();
        // Smalti subjects are plain names (no commas or escapes inside values), so a split reads them.
        if (!List.of(leaf.getSubjectX500Principal().getName().split(",")).contains("O=node")) {
            throw new CertificateException("the hub's certificate (" + leaf.getSubjectX500Principal()
                    + ") is not a node certificate");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the harness accepts no TLS clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[] {ca};
    }
}
