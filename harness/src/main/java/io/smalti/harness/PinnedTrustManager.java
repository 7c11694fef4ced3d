package io.smalti.harness;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts exactly one server certificate (the hub's, from the harness configuration): the peer's leaf must be
 * byte-for-byte that certificate and within its validity period. Nothing else is accepted, not even a
 * certificate it signed. The TLS handshake itself proves the hub holds the matching private key. Stateless and
 * thread-safe.
 *
 * <p>Why not the JDK's PKIX trust manager over a one-certificate key store: for a pin it checks nothing more,
 * and building it (key store, PKIX parameters, certificate path classes) cost the harness ~40 ms of its start.
 */
final class PinnedTrustManager extends X509ExtendedTrustManager {
    private final X509Certificate pinned;
    private final byte[] pinnedEncoded;

    PinnedTrustManager(X509Certificate pinned) throws CertificateException {
        this.pinned = pinned;
        this.pinnedEncoded = pinned.getEncoded();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the hub sent no certificate");
        }
        if (!Arrays.equals(chain[0].getEncoded(), pinnedEncoded)) {
            throw new CertificateException("the hub's certificate (subject " + chain[0].getSubjectX500Principal()
                    + ") is not the one this harness was configured with (subject "
                    + pinned.getSubjectX500Principal() + ")");
        }
        chain[0].checkValidity();
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
        return new X509Certificate[] {pinned};
    }
}
