package io.smalti.credentials.ca;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** PEM and DER conversions of certificates and keys, JDK classes only. Stateless. */
public final class Pem {
    private Pem() {
    }

    public static String certificate(X509Certificate cert) {
        try {
            return block("CERTIFICATE", cert.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A private key as unencrypted PKCS#8 PEM (for a file of mode 0600, or memory). */
    public static String privateKey(PrivateKey key) {
        return block("PRIVATE KEY", key.getEncoded());
    }

    public static String block(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    public static X509Certificate parseCertificate(byte[] derOrPem) {
        List<X509Certificate> all = parseCertificates(derOrPem);
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no certificate found");
        }
        return all.get(0);
    }

    public static List<X509Certificate> parseCertificates(byte[] derOrPem) {
        try {
            CertificateFactory f = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            f.generateCertificates(new ByteArrayInputStream(derOrPem)).forEach(c -> out.add((X509Certificate) c));
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an X.509 certificate: " + e.getMessage(), e);
        }
    }

    /** Reads a PKCS#8 private key (PEM "PRIVATE KEY"), EC or RSA. */
    public static PrivateKey parsePrivateKey(String pem) {
        byte[] der = der(pem, "PRIVATE KEY");
        for (String alg : new String[] {"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new IllegalArgumentException("not an EC or RSA PKCS#8 private key");
    }

    /** Reads an X.509 SubjectPublicKeyInfo (DER), EC or RSA. */
    public static PublicKey parsePublicKey(byte[] der) {
        for (String alg : new String[] {"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new IllegalArgumentException("not an EC or RSA public key (" + der.length + " bytes)");
    }

    static byte[] der(String pem, String type) {
        String begin = "-----BEGIN " + type + "-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf("-----END " + type + "-----");
        if (b < 0 || e < b) {
            throw new IllegalArgumentException("no PEM block " + type);
        }
        return Base64.getMimeDecoder().decode(pem.substring(b + begin.length(), e).getBytes(StandardCharsets.US_ASCII));
    }
}
