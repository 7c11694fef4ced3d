package io.smalti.credentials.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.MasterKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterCaTest {
    @TempDir
    Path dir;

    private byte[] secret(String s) throws Exception {
        Path f = dir.resolve("key-" + s.hashCode());
        Files.writeString(f, s, StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return MasterKey.readSecret(f);
    }

    @Test
    void issuesCertificatesWithTheThesisSubjectMappingThatChainToTheCa() throws Exception {
        MasterKey master = MasterKey.create(dir, secret("correct horse battery staple"));
        Instant now = Instant.now();
        ClusterCa ca = ClusterCa.create(dir, master, "prod", KeyAlgorithm.EC, now);
        KeyPair pair = KeyAlgorithm.EC.generate();
        X509Certificate cert = ca.issue(new Identity(Identity.HARNESS, "ab12", "n1", List.of("10.1.2.3", "hub.n1.example")),
                pair.getPublic(), Duration.ofHours(1), now);
        cert.verify(ca.certificate().getPublicKey());
        assertEquals("UID=ab12,OU=n1,O=harness,DC=prod", cert.getSubjectX500Principal().getName());
        Identity.Named named = Identity.of(cert).orElseThrow();
        assertEquals("prod", named.cluster());
        assertEquals(new Identity(Identity.HARNESS, "ab12", "n1", List.of()), named.identity());
        assertEquals(List.of("10.1.2.3", "hub.n1.example"), Identity.endpointsOf(cert));
        assertEquals(now.plus(Duration.ofHours(1)).getEpochSecond(), cert.getNotAfter().toInstant().getEpochSecond());
        assertTrue(cert.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")));

        // Reopened with the same secret: same CA, can issue; RSA keys too.
        ClusterCa again = ClusterCa.open(dir, MasterKey.open(dir, secret("correct horse battery staple")));
        again.issue(new Identity(Identity.OPERATOR, "alice", "", List.of()), KeyAlgorithm.RSA.generate().getPublic(),
                Duration.ofHours(1), now).verify(ca.certificate().getPublicKey());
        assertEquals(0, again.crl(List.of(cert.getSerialNumber()), now, now.plusSeconds(60))
                .getRevokedCertificate(cert.getSerialNumber()) == null ? 1 : 0);
    }

    @Test
    void aWrongSecretATamperedKeyOrASwappedCertificateIsRefusedSayingWhich() throws Exception {
        MasterKey master = MasterKey.create(dir, secret("correct horse battery staple"));
        ClusterCa.create(dir, master, "prod", KeyAlgorithm.EC, Instant.now());
        CredentialsException wrong = assertThrows(CredentialsException.class,
                () -> MasterKey.open(dir, secret("not the passphrase at all")));
        assertTrue(wrong.getMessage().contains("is not the one"), wrong.getMessage());

        Path key = dir.resolve(ClusterCa.KEY_FILE);
        byte[] sealed = Files.readAllBytes(key);
        sealed[sealed.length - 5] ^= 1;
        Files.write(key, sealed);
        CredentialsException tampered = assertThrows(CredentialsException.class, () -> ClusterCa.open(dir, master));
        assertTrue(tampered.getMessage().contains("was altered"), tampered.getMessage());
        sealed[sealed.length - 5] ^= 1;
        Files.write(key, sealed);
        ClusterCa.open(dir, master);

        Path other = dir.resolve("other");
        ClusterCa.create(other, MasterKey.create(other, secret("another cluster's passphrase")), "x", KeyAlgorithm.EC,
                Instant.now());
        Files.copy(other.resolve(ClusterCa.CERTIFICATE_FILE), dir.resolve(ClusterCa.CERTIFICATE_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CredentialsException swapped = assertThrows(CredentialsException.class, () -> ClusterCa.open(dir, master));
        assertTrue(swapped.getMessage().contains("does not belong"), swapped.getMessage());
    }

    @Test
    void aMasterKeyFileOthersCanReadOrAShortOneIsRefused() throws Exception {
        Path f = dir.resolve("open.key");
        Files.writeString(f, "a long enough passphrase");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(assertThrows(CredentialsException.class, () -> MasterKey.readSecret(f)).getMessage().contains("chmod 600"));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(f, "short\n");
        assertTrue(assertThrows(CredentialsException.class, () -> MasterKey.readSecret(f)).getMessage().contains("at least 16"));
    }
}
