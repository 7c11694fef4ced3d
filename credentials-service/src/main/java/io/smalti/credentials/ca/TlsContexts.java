package io.smalti.credentials.ca;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * JSSE contexts for a Smalti identity: key managers presenting one certificate (and the CA after it), a PKIX trust
 * manager whose only anchor is the cluster CA, and an SSL context of both. The one place every client and server of
 * the platform (node agent, CLI, benchmarks, tests) builds them. Stateless; the objects it returns are thread-safe.
 */
public final class TlsContexts {
    private TlsContexts() {
    }

    /** Key managers presenting {@code certificate} (then {@code ca}) with {@code key}. */
    public static KeyManager[] keyManagers(PrivateKey key, X509Certificate certificate, X509Certificate ca)
            throws GeneralSecurityException {
        char[] none = new char[0];
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try {
            keys.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
        keys.setKeyEntry("identity", key, none, new Certificate[] {certificate, ca});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, none);
        return kmf.getKeyManagers();
    }

    /** A PKIX trust manager with {@code ca} as its only anchor. */
    public static X509TrustManager trustOnly(X509Certificate ca) throws GeneralSecurityException {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        try {
            anchors.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
        anchors.setCertificateEntry("cluster-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(anchors);
        return (X509TrustManager) tmf.getTrustManagers()[0];
    }

    /** An SSL context ({@code protocol}, e.g. "TLS" or "TLSv1.3") presenting {@code certificate}, trusting only {@code ca}. */
    public static SSLContext context(String protocol, PrivateKey key, X509Certificate certificate, X509Certificate ca)
            throws GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance(protocol);
        ctx.init(keyManagers(key, certificate, ca), new javax.net.ssl.TrustManager[] {trustOnly(ca)}, null);
        return ctx;
    }
}
