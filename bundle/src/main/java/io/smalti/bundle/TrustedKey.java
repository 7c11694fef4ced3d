package io.smalti.bundle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * An Ed25519 public key whose signatures a node accepts, with its text form
 * {@code smalti-ed25519 <base64 raw key> <comment>}. Immutable and thread-safe.
 */
public final class TrustedKey {
    /** The first word of the text form. */
    public static final String TYPE = "smalti-ed25519";

    private final byte[] raw;
    private final String comment;
    private final String id;

    /** A key of 32 raw bytes; the comment (a word or a few, one line) only helps people tell keys apart. */
    public TrustedKey(byte[] raw, String comment) {
        if (raw.length != Ed25519PublicKeyParameters.KEY_SIZE) {
            throw new BundleException("public key: must be 32 bytes, not " + raw.length);
        }
        if (comment.chars().anyMatch(Character::isISOControl)) {
            throw new BundleException("public key: control characters in comment");
        }
        this.raw = raw.clone();
        this.comment = comment.strip();
        this.id = HexFormat.of().formatHex(BundleArchive.sha256(raw), 0, 8);
    }

    /** The key id: the first 16 hex digits of the SHA-256 of the raw key. */
    public String id() {
        return id;
    }

    public String comment() {
        return comment;
    }

    /** The 32 raw bytes of the key. */
    public byte[] raw() {
        return raw.clone();
    }

    /** Parses the one-line text form. */
    public static TrustedKey parse(String line) {
        String[] parts = line.strip().split("\\s+", 3);
        if (parts.length < 2 || !parts[0].equals(TYPE)) {
            throw new BundleException("public key: must be one line '" + TYPE + " <base64 key> <comment>'");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new BundleException("public key: key is not base64: " + e.getMessage());
        }
        return new TrustedKey(raw, parts.length == 3 ? parts[2] : "");
    }

    /** Reads a public key file ({@code .pub}). */
    public static TrustedKey load(Path pubFile) {
        try {
            String text = Files.readString(pubFile, StandardCharsets.UTF_8).strip();
            if (text.contains("\n")) {
                throw new BundleException(pubFile + ": must be one line");
            }
            return parse(text);
        } catch (IOException e) {
            throw new BundleException("cannot read public key " + pubFile + ": " + e.getMessage(), e);
        } catch (BundleException e) {
            throw new BundleException(pubFile + ": " + e.getMessage(), e);
        }
    }

    /** The text form, one line without newline. */
    public String toText() {
        return (TYPE + " " + Base64.getEncoder().encodeToString(raw) + " " + comment).strip();
    }

    /** Whether {@code signature} is this key's signature of {@code message}. */
    public boolean verifies(byte[] message, byte[] signature) {
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(raw, 0));
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrustedKey k && Arrays.equals(raw, k.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return "TrustedKey[" + id + (comment.isEmpty() ? "" : " " + comment) + "]";
    }
}
