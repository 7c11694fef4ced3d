package io.smalti.credentials.ca;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;

/** Key types certificates are made for: EC P-256 (default: small, fast handshakes) or RSA 2048 (for old clients). */
public enum KeyAlgorithm {
    EC("SHA256withECDSA"),
    RSA("SHA256withRSA");

    private final String signature;

    KeyAlgorithm(String signature) {
        this.signature = signature;
    }

    /** The signature algorithm a CA with a key of this type signs with. */
    public String signature() {
        return signature;
    }

    /** Generates a key pair of this type. Thread-safe. */
    public KeyPair generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(name());
            if (this == EC) {
                g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            } else {
                g.initialize(2048, new SecureRandom());
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + this + " key: " + e, e);
        }
    }

    /** Parses "ec" or "rsa" (any case). */
    public static KeyAlgorithm parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key algorithm must be ec or rsa, not '" + s + "'");
        }
    }
}
