package io.smalti.hub.endpoint;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The hub's development TLS certificate: self-signed, made once per node data directory and kept
 * ({@code hub/certificate.pem}, {@code hub/key.pem}), so harnesses can pin it. Replaced by certificates
 * from the cluster CA when the security work lands. Not thread-safe; called once at start-up.
 */
public record DevCertificate(Path certificate, Path key) {

    /** Loads the node's certificate, or makes one for {@code host} if there is none. */
    public static DevCertificate loadOrCreate(Path dataDir, String host) {
        Path dir = dataDir.resolve("hub");
        DevCertificate c = new DevCertificate(dir.resolve("certificate.pem"), dir.resolve("key.pem"));
        if (Files.isRegularFile(c.certificate) && Files.isRegularFile(c.key)) {
            return c;
        }
        try {
            // Owner-only, like the rest of the node's data directory; the key above all.
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = gen.generateKeyPair();
            X500Name name = new X500Name("CN=smalti hub " + host + ",O=Smalti development");
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), name, pair.getPublic());
            GeneralName san = host.matches("[0-9.]+|.*:.*") ? new GeneralName(GeneralName.iPAddress, host)
                    : new GeneralName(GeneralName.dNSName, host);
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san));
            X509CertificateHolder cert = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            write(c.key, pem(new JcaPKCS8Generator(pair.getPrivate(), null)));
            write(c.certificate, pem(cert));
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the hub certificate in " + dir + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make the hub certificate: " + e.getMessage(), e);
        }
    }

    /** The certificate in PEM form, for harness configurations. */
    public String certificatePem() {
        try {
            return Files.readString(certificate, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String pem(Object o) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(o);
        }
        return s.toString();
    }

    /** Writes an owner-only (0600) file, whole or not at all. */
    private static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
