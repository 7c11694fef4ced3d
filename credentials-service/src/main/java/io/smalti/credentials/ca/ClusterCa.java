package io.smalti.credentials.ca;

import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.Files2;
import io.smalti.credentials.MasterKey;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A cluster's certificate authority: its certificate ({@code ca.pem}, public) and its private key
 * ({@code ca-key.sealed}, encrypted under the {@link MasterKey}) in one directory. Signs agents' certificates and
 * the revocation list. Only the credentials service opens it. Thread-safe (signing holds no state).
 */
public final class ClusterCa {
    public static final String CERTIFICATE_FILE = "ca.pem";
    public static final String KEY_FILE = "ca-key.sealed";
    private static final String KEY_PURPOSE = "smalti ca key";
    private static final Pattern CLUSTER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Clock skew between nodes that a fresh certificate tolerates. */
    static final Duration BACKDATE = Duration.ofMinutes(5);

    private final String cluster;
    private final X509Certificate certificate;
    private final PrivateKey key;
    private final KeyAlgorithm algorithm;

    private ClusterCa(String cluster, X509Certificate certificate, PrivateKey key) {
        this.cluster = cluster;
        this.certificate = certificate;
        this.key = key;
        this.algorithm = key.getAlgorithm().equals("RSA") ? KeyAlgorithm.RSA : KeyAlgorithm.EC;
    }

    /** Whether {@code dir} holds a CA. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(CERTIFICATE_FILE)) && Files.isRegularFile(dir.resolve(KEY_FILE));
    }

    /**
     * Creates the CA of a new cluster in {@code dir} (valid ten years), its key sealed under {@code master}.
     *
     * @throws CredentialsException if {@code dir} holds a CA already, or cannot be written
     */
    public static ClusterCa create(Path dir, MasterKey master, String cluster, KeyAlgorithm algorithm, Instant now) {
        if (!CLUSTER.matcher(cluster).matches()) {
            throw new CredentialsException("cluster name must be letters, digits, '-' or '_', not '" + cluster + "'");
        }
        if (exists(dir)) {
            throw new CredentialsException(dir + " holds a cluster CA already");
        }
        KeyPair pair = algorithm.generate();
        X500Name name = new X500Name("CN=Smalti cluster CA,DC=" + cluster);
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(Duration.ofDays(3650))), name, pair.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(signer(algorithm, pair.getPrivate())));
            Files2.writePrivate(dir.resolve(KEY_FILE), master.seal(KEY_PURPOSE,
                    Pem.privateKey(pair.getPrivate()).getBytes(StandardCharsets.US_ASCII)));
            Files2.writePrivate(dir.resolve(CERTIFICATE_FILE), Pem.certificate(cert).getBytes(StandardCharsets.US_ASCII));
            return new ClusterCa(cluster, cert, pair.getPrivate());
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new CredentialsException("cannot create the cluster CA: " + e, e);
        }
    }

    /**
     * Opens the CA in {@code dir}.
     *
     * @throws CredentialsException when a file is missing, altered, or not this master key's
     */
    public static ClusterCa open(Path dir, MasterKey master) {
        X509Certificate cert;
        try {
            cert = Pem.parseCertificate(Files2.read(dir.resolve(CERTIFICATE_FILE), "the CA certificate"));
        } catch (IllegalArgumentException e) {
            throw new CredentialsException("the CA certificate " + dir.resolve(CERTIFICATE_FILE) + " is damaged: "
                    + e.getMessage());
        }
        byte[] pem = master.open(KEY_PURPOSE, Files2.read(dir.resolve(KEY_FILE), "the CA key"),
                "the CA key " + dir.resolve(KEY_FILE));
        PrivateKey key = Pem.parsePrivateKey(new String(pem, StandardCharsets.US_ASCII));
        String cluster = clusterOf(cert);
        ClusterCa ca = new ClusterCa(cluster, cert, key);
        ca.checkPair(dir);
        return ca;
    }

    private void checkPair(Path dir) {
        try {
            java.security.Signature s = java.security.Signature.getInstance(algorithm.signature());
            s.initSign(key);
            byte[] probe = "smalti".getBytes(StandardCharsets.US_ASCII);
            s.update(probe);
            byte[] sig = s.sign();
            s.initVerify(certificate.getPublicKey());
            s.update(probe);
            if (!s.verify(sig)) {
                throw new CredentialsException("the CA key in " + dir + " does not belong to its certificate "
                        + CERTIFICATE_FILE + " (one of them was replaced)");
            }
        } catch (GeneralSecurityException e) {
            throw new CredentialsException("the CA key in " + dir + " does not belong to its certificate: " + e, e);
        }
    }

    /**
     * The cluster a CA certificate is for: its DC.
     *
     * @throws CredentialsException when it names none
     */
    public static String clusterOf(X509Certificate cert) {
        for (String part : cert.getSubjectX500Principal().getName().split(",")) {
            if (part.startsWith("DC=")) {
                return part.substring(3);
            }
        }
        throw new CredentialsException("the CA certificate names no cluster (DC)");
    }

    public String cluster() {
        return cluster;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * Signs a certificate for {@code identity}'s {@code publicKey}, valid from a few minutes ago (clock skew) for
     * {@code lifetime}, for both TLS client and server use.
     */
    public X509Certificate issue(Identity identity, PublicKey publicKey, Duration lifetime, Instant now) {
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(lifetime)), new X500Name(bcOrder(identity.subject(cluster))),
                    publicKey);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            List<GeneralName> names = new ArrayList<>();
            for (String e : identity.endpoints()) {
                names.add(e.contains("://") ? new GeneralName(GeneralName.uniformResourceIdentifier, e)
                        : e.matches("[0-9.]+|.*:.*") ? new GeneralName(GeneralName.iPAddress, e)
                        : new GeneralName(GeneralName.dNSName, e));
            }
            if (!names.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            return new JcaX509CertificateConverter().getCertificate(b.build(signer(algorithm, key)));
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new CredentialsException("cannot issue a certificate for " + identity + ": " + e, e);
        } catch (IllegalArgumentException e) {
            throw new CredentialsException("cannot issue a certificate for " + identity + ": " + e.getMessage(), e);
        }
    }

    /** A CRL listing {@code revoked} serials, valid until {@code nextUpdate}. */
    public X509CRL crl(Collection<BigInteger> revoked, Instant now, Instant nextUpdate) {
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                    Date.from(now));
            b.setNextUpdate(Date.from(nextUpdate));
            for (BigInteger s : revoked) {
                b.addCRLEntry(s, Date.from(now), CRLReason.cessationOfOperation);
            }
            return new JcaX509CRLConverter().getCRL(b.build(signer(algorithm, key)));
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new CredentialsException("cannot sign the revocation list: " + e, e);
        }
    }

    /** Bouncy Castle wants the most significant RDN first; {@link Identity#subject} is RFC 2253 (least first). */
    private static String bcOrder(String rfc2253) {
        List<String> parts = new ArrayList<>(List.of(rfc2253.split(",")));
        java.util.Collections.reverse(parts);
        return String.join(",", parts);
    }

    private static ContentSigner signer(KeyAlgorithm algorithm, PrivateKey key) throws OperatorCreationException {
        return new JcaContentSignerBuilder(algorithm.signature()).build(key);
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }
}
