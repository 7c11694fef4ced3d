package io.smalti.credentials.vault;

import io.smalti.protocol.credentials.CredentialKind;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.params.RSAPrivateCrtKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The vault's private-key kinds: Ed25519, ECDSA on P-256 (SHA256withECDSA) and RSA of at least 2048 bits
 * (SHA256withRSA). Reads PEM (PKCS#8, SEC1 or PKCS#1) or PKCS#8 DER, derives the public key, generates. Stateless.
 */
final class Keys {
    /** Shorter RSA keys are refused: NIST SP 800-57 retired 1024-bit RSA in 2013. */
    static final int MIN_RSA_BITS = 2048;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Keys() {
    }

    static boolean isKey(CredentialKind kind) {
        return kind == CredentialKind.ED25519_KEY || kind == CredentialKind.ECDSA_P256_KEY || kind == CredentialKind.RSA_KEY;
    }

    /** The JCA signature algorithm of a key kind. */
    static String signatureAlgorithm(CredentialKind kind) {
        return switch (kind) {
            case ED25519_KEY -> "Ed25519";
            case ECDSA_P256_KEY -> "SHA256withECDSA";
            case RSA_KEY -> "SHA256withRSA";
            default -> throw new IllegalArgumentException(kind + " is not a key kind");
        };
    }

    private static String keyAlgorithm(CredentialKind kind) {
        return switch (kind) {
            case ED25519_KEY -> "Ed25519";
            case ECDSA_P256_KEY -> "EC";
            case RSA_KEY -> "RSA";
            default -> throw new IllegalArgumentException(kind + " is not a key kind");
        };
    }

    /** A new key of {@code kind}, as PKCS#8 DER. */
    static byte[] generate(CredentialKind kind) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(keyAlgorithm(kind));
            if (kind == CredentialKind.ECDSA_P256_KEY) {
                g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            } else if (kind == CredentialKind.RSA_KEY) {
                g.initialize(3072, RANDOM);
            }
            KeyPair pair = g.generateKeyPair();
            return pair.getPrivate().getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + kind + ": " + e, e);
        }
    }

    /**
     * Reads a private key of {@code kind} from PEM or PKCS#8 DER and returns it as PKCS#8 DER.
     *
     * @throws IllegalArgumentException when it is not a key, not of that kind, or encrypted
     */
    static byte[] normalise(CredentialKind kind, byte[] pemOrDer) {
        PrivateKeyInfo info;
        String text = new String(pemOrDer, StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN")) {
            try (PEMParser p = new PEMParser(new StringReader(text))) {
                Object o = p.readObject();
                if (o instanceof PrivateKeyInfo k) {
                    info = k;
                } else if (o instanceof PEMKeyPair k) {
                    info = k.getPrivateKeyInfo();
                } else if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new IllegalArgumentException("the " + kind + " is encrypted: give it unencrypted (the vault seals it)");
                } else {
                    throw new IllegalArgumentException("the " + kind + " PEM holds no private key"
                            + (o == null ? "" : " (it holds a " + o.getClass().getSimpleName() + ")"));
                }
            } catch (IOException e) {
                throw new IllegalArgumentException("the " + kind + " is not readable PEM: " + e.getMessage(), e);
            }
        } else {
            try {
                info = PrivateKeyInfo.getInstance(pemOrDer);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("the " + kind + " is neither PEM nor PKCS#8 DER (" + pemOrDer.length
                        + " bytes)");
            }
        }
        try {
            AsymmetricKeyParameter k = PrivateKeyFactory.createKey(info);
            boolean fits = switch (kind) {
                case ED25519_KEY -> k instanceof Ed25519PrivateKeyParameters;
                case ECDSA_P256_KEY -> k instanceof ECPrivateKeyParameters ec
                        && ec.getParameters() instanceof ECNamedDomainParameters n
                        && n.getName().equals(SECObjectIdentifiers.secp256r1);
                case RSA_KEY -> k instanceof RSAPrivateCrtKeyParameters r && r.getModulus().bitLength() >= MIN_RSA_BITS;
                default -> false;
            };
            if (!fits) {
                throw new IllegalArgumentException("the key is not a " + kind + describe(k));
            }
            return info.getEncoded();
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw (IllegalArgumentException) e;
            }
            throw new IllegalArgumentException("the " + kind + " is damaged: " + e.getMessage(), e);
        }
    }

    private static String describe(AsymmetricKeyParameter k) {
        if (k instanceof RSAPrivateCrtKeyParameters r) {
            return " (RSA of " + r.getModulus().bitLength() + " bits; at least " + MIN_RSA_BITS + " are needed)";
        }
        if (k instanceof ECPrivateKeyParameters) {
            return " (EC on another curve; P-256 is needed)";
        }
        return " (" + k.getClass().getSimpleName().replace("PrivateKeyParameters", "") + ")";
    }

    /** The JCA private key of PKCS#8 DER made by {@link #normalise} or {@link #generate}. */
    static PrivateKey privateKey(CredentialKind kind, byte[] pkcs8) {
        try {
            return KeyFactory.getInstance(keyAlgorithm(kind)).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the " + kind + " is damaged: " + e.getMessage(), e);
        }
    }

    /** The public key of a PKCS#8 private key. */
    static PublicKey publicKey(CredentialKind kind, byte[] pkcs8) {
        try {
            AsymmetricKeyParameter k = PrivateKeyFactory.createKey(PrivateKeyInfo.getInstance(pkcs8));
            AsymmetricKeyParameter pub;
            if (k instanceof Ed25519PrivateKeyParameters ed) {
                pub = ed.generatePublicKey();
            } else if (k instanceof ECPrivateKeyParameters ec) {
                pub = new ECPublicKeyParameters(ec.getParameters().getG().multiply(ec.getD()).normalize(), ec.getParameters());
            } else if (k instanceof RSAPrivateCrtKeyParameters r) {
                pub = new RSAKeyParameters(false, r.getModulus(), r.getPublicExponent());
            } else {
                throw new IllegalArgumentException("not a key kind the vault keeps");
            }
            byte[] spki = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pub).getEncoded();
            return KeyFactory.getInstance(keyAlgorithm(kind)).generatePublic(new X509EncodedKeySpec(spki));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot derive the public key of the " + kind + ": " + e.getMessage(), e);
        }
    }
}
