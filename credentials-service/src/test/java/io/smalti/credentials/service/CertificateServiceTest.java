package io.smalti.credentials.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Revocations;
import io.smalti.credentials.client.CredentialsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The certificate manager through its real Unix socket: issue, tokens redeemed once and only for their kind, revocation. */
class CertificateServiceTest {
    @TempDir
    Path dir;

    @Test
    void issuesRedeemsOnceForItsKindAndRevokes() throws Exception {
        Path key = dir.resolve("master.key");
        Files.writeString(key, "a passphrase long enough");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path ca = dir.resolve("ca");
        ClusterCa cluster = ClusterCa.create(ca, MasterKey.create(ca, MasterKey.readSecret(key)), "c1", KeyAlgorithm.EC,
                Instant.now());
        MasterKey master = MasterKey.open(ca, MasterKey.readSecret(key));
        CredentialsService service = new CredentialsService(cluster, new OneTimeTokens(Duration.ofSeconds(60), 100),
                new Revocations(ca, Instant.now()), io.smalti.credentials.vault.Vault.open(ca, master, Clock.systemUTC()),
                new io.smalti.credentials.vault.Audit(ca, 1 << 20), Duration.ofHours(1), Clock.systemUTC());
        // Unix socket paths are limited to 107 bytes: a short one.
        Path socket = Files.createTempDirectory(Path.of("/tmp"), "cs").resolve("s.sock");
        try (SocketServer server = SocketServer.start(socket, service); CredentialsClient client = new CredentialsClient(socket)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            KeyPair pair = KeyAlgorithm.EC.generate();
            Identity node = new Identity(Identity.NODE, "n1", "n1", List.of("127.0.0.1"));
            CredentialsClient.Issued issued = client.issue(node, pair.getPublic(), Duration.ofMinutes(10));
            issued.certificate().verify(cluster.certificate().getPublicKey());
            assertEquals(node.withoutEndpoints(), Identity.of(issued.certificate()).orElseThrow().identity());

            Identity harness = new Identity(Identity.HARNESS, "ab".repeat(20), "n1", List.of());
            String token = client.makeToken(harness).value();
            // Redeemed where a node's token belongs: refused, and used up.
            CredentialsClient.Refused wrongKind = assertThrows(CredentialsClient.Refused.class,
                    () -> client.redeem(token, pair.getPublic().getEncoded(), Identity.NODE));
            assertTrue(wrongKind.getMessage().contains("made for a harness"), wrongKind.getMessage());
            assertThrows(CredentialsClient.Refused.class, () -> client.redeem(token, pair.getPublic().getEncoded(), Identity.HARNESS));
            String good = client.makeToken(harness).value();
            CredentialsClient.Issued mine = client.redeem(good, pair.getPublic().getEncoded(), Identity.HARNESS);
            assertThrows(CredentialsClient.Refused.class, () -> client.redeem(good, pair.getPublic().getEncoded(), Identity.HARNESS));

            assertEquals(1, client.revoke(harness.uid()));
            CredentialsClient.Crl crl = client.crl();
            assertTrue(crl.serials().contains(mine.certificate().getSerialNumber()));
            java.security.cert.X509CRL x509 = (java.security.cert.X509CRL) java.security.cert.CertificateFactory
                    .getInstance("X.509").generateCRL(new java.io.ByteArrayInputStream(crl.der()));
            x509.verify(cluster.certificate().getPublicKey());
            assertTrue(x509.isRevoked(mine.certificate()));
            // A restarted service still knows what it issued and revoked.
            assertTrue(new Revocations(ca, Instant.now()).revoked(Instant.now()).contains(mine.certificate().getSerialNumber()));
        }
    }
}
