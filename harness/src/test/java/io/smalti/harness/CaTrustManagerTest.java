package io.smalti.harness;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.KeyAlgorithm;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaTrustManagerTest {
    @TempDir
    Path dir;

    private static X509Certificate issue(ClusterCa ca, String subsystem, Instant from, Duration life) {
        return ca.issue(new Identity(subsystem, "n1", "n1", List.of("127.0.0.1")), KeyAlgorithm.EC.generate().getPublic(),
                life, from);
    }

    @Test
    void trustsNodeCertificatesOfItsCaOnly() throws Exception {
        ClusterCa ca = HubStub.testCa(dir.resolve("a"));
        ClusterCa other = HubStub.testCa(dir.resolve("b"));
        CaTrustManager tm = new CaTrustManager(ca.certificate());
        Instant now = Instant.now();
        assertDoesNotThrow(() -> tm.checkServerTrusted(new X509Certificate[] {issue(ca, "node", now, Duration.ofHours(1))}, "EC"));
        CertificateException foreign = assertThrows(CertificateException.class, () -> tm.checkServerTrusted(
                new X509Certificate[] {issue(other, "node", now, Duration.ofHours(1))}, "EC"));
        assertTrue(foreign.getMessage().contains("was not issued by this harness's cluster CA"), foreign.getMessage());
        CertificateException harness = assertThrows(CertificateException.class, () -> tm.checkServerTrusted(
                new X509Certificate[] {issue(ca, "harness", now, Duration.ofHours(1))}, "EC"));
        assertTrue(harness.getMessage().contains("not a node certificate"), harness.getMessage());
        assertThrows(CertificateException.class, () -> tm.checkServerTrusted(
                new X509Certificate[] {issue(ca, "node", now.minus(Duration.ofHours(3)), Duration.ofHours(1))}, "EC"));
        assertThrows(CertificateException.class, () -> tm.checkServerTrusted(new X509Certificate[0], "EC"));
        assertThrows(CertificateException.class, () -> tm.checkClientTrusted(
                new X509Certificate[] {issue(ca, "node", now, Duration.ofHours(1))}, "EC"));
    }

    @Test
    void aPinnedHubCertificateIsTrustedByItsBytesAndAnotherStillByTheCa() throws Exception {
        ClusterCa ca = HubStub.testCa(dir.resolve("p"));
        Instant now = Instant.now();
        X509Certificate current = issue(ca, "node", now, Duration.ofHours(1));
        X509Certificate renewed = issue(ca, "node", now, Duration.ofHours(1));
        CaTrustManager tm = new CaTrustManager(ca.certificate(), current);
        assertDoesNotThrow(() -> tm.checkServerTrusted(new X509Certificate[] {current}, "EC"));
        assertDoesNotThrow(() -> tm.checkServerTrusted(new X509Certificate[] {renewed}, "EC"), "the hub renewed since");
        X509Certificate expired = issue(ca, "node", now.minus(Duration.ofHours(3)), Duration.ofHours(1));
        assertThrows(CertificateException.class, () -> new CaTrustManager(ca.certificate(), expired)
                .checkServerTrusted(new X509Certificate[] {expired}, "EC"), "a pinned certificate past its validity");
        ClusterCa other = HubStub.testCa(dir.resolve("q"));
        assertThrows(CertificateException.class, () -> tm.checkServerTrusted(
                new X509Certificate[] {issue(other, "node", now, Duration.ofHours(1))}, "EC"));
    }
}
