package io.smalti.harness;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Date;
import org.junit.jupiter.api.Test;

class PinnedTrustManagerTest {
    private static final long DAY = 86_400_000L;

    @Test
    void acceptsExactlyThePinnedCertificate() throws Exception {
        X509Certificate hub = new SelfSignedCertificate("hub").cert();
        X509Certificate other = new SelfSignedCertificate("hub").cert(); // same name, another key
        PinnedTrustManager tm = new PinnedTrustManager(hub);
        assertDoesNotThrow(() -> tm.checkServerTrusted(new X509Certificate[] {hub}, "ECDHE_ECDSA"));
        CertificateException e = assertThrows(CertificateException.class,
                () -> tm.checkServerTrusted(new X509Certificate[] {other}, "ECDHE_ECDSA"));
        assertTrue(e.getMessage().contains("not the one this harness was configured with"), e.getMessage());
        assertThrows(CertificateException.class, () -> tm.checkServerTrusted(new X509Certificate[0], "ECDHE_ECDSA"));
        assertThrows(CertificateException.class, () -> tm.checkClientTrusted(new X509Certificate[] {hub}, "ECDHE_ECDSA"));
    }

    @Test
    void refusesThePinnedCertificateOnceExpired() throws Exception {
        long now = System.currentTimeMillis();
        X509Certificate expired = new SelfSignedCertificate("hub", new Date(now - 10 * DAY), new Date(now - DAY)).cert();
        PinnedTrustManager tm = new PinnedTrustManager(expired);
        assertThrows(CertificateExpiredException.class, () -> tm.checkServerTrusted(new X509Certificate[] {expired}, "RSA"));
    }
}
