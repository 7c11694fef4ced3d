package io.smalti.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The detached signature of a bundle archive, a small JSON document
 * {@code {"digest": "<sha-256 hex>", "key": "<key id>", "algorithm": "Ed25519", "signature": "<base64>"}}; the
 * signed message is the 32 raw bytes of the digest. Immutable and thread-safe.
 */
public record BundleSignature(String digest, String key, String algorithm, byte[] signature) {
    public static final String ALGORITHM = "Ed25519";
    private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{16}");

    public BundleSignature {
        signature = signature.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    /** Signs {@code archive} with {@code key}. */
    public static BundleSignature sign(byte[] archive, DeveloperKey key) {
        return signDigest(BundleArchive.sha256(archive), key);
    }

    /** Signs the archive file {@code archive} (read in a stream) with {@code key}. */
    public static BundleSignature sign(java.nio.file.Path archive, DeveloperKey key) {
        return signDigest(BundleArchive.sha256(archive), key);
    }

    private static BundleSignature signDigest(byte[] digest, DeveloperKey key) {
        return new BundleSignature(HexFormat.of().formatHex(digest), key.publicKey().id(), ALGORITHM, key.sign(digest));
    }

    /**
     * Checks that {@code signature} is a signature of {@code archive} by one of the {@code trusted} keys; throws a
     * {@link BundleException} naming the problem (digest mismatch, unknown key, bad signature) otherwise.
     */
    public static void verify(byte[] archive, BundleSignature signature, Collection<TrustedKey> trusted) {
        verifyDigest(BundleArchive.sha256(archive), signature, trusted);
    }

    /**
     * Like {@link #verify}, for an archive whose SHA-256 is {@code digest} (computed from a file, say:
     * {@link BundleArchive#sha256(java.nio.file.Path)}).
     */
    public static void verifyDigest(byte[] digest, BundleSignature signature, Collection<TrustedKey> trusted) {
        String actual = HexFormat.of().formatHex(digest);
        if (!actual.equals(signature.digest())) {
            throw new BundleException("digest mismatch: the signature is for " + signature.digest()
                    + ", the archive is " + actual);
        }
        if (!ALGORITHM.equals(signature.algorithm())) {
            throw new BundleException("signature algorithm: " + signature.algorithm() + " is not " + ALGORITHM);
        }
        List<TrustedKey> candidates = new ArrayList<>();
        for (TrustedKey k : trusted) {
            if (k.id().equals(signature.key())) {
                candidates.add(k);
            }
        }
        if (candidates.isEmpty()) {
            throw new BundleException("unknown key id " + signature.key() + ": not one of the " + trusted.size()
                    + " trusted keys");
        }
        // Two keys could share the 64-bit id only by accident, or by an attacker's effort: try each.
        for (TrustedKey k : candidates) {
            if (k.verifies(digest, signature.signature)) {
                return;
            }
        }
        throw new BundleException("bad signature: not a signature of " + actual + " by key " + signature.key());
    }

    /** The JSON document. */
    public byte[] toJson() {
        var o = Json.MAPPER.createObjectNode().put("digest", digest).put("key", key).put("algorithm", algorithm)
                .put("signature", Base64.getEncoder().encodeToString(signature));
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new BundleException("cannot write signature: " + e.getMessage(), e);
        }
    }

    /** Parses the JSON document; errors name the field (unknown fields are errors). */
    public static BundleSignature parse(byte[] json) {
        try {
            Json j = Json.parse(json, "signature");
            String digest = j.string("digest", null);
            if (!DIGEST.matcher(digest).matches()) {
                throw Json.error("digest", "must be 64 lowercase hex digits");
            }
            String key = j.string("key", null);
            if (!KEY_ID.matcher(key).matches()) {
                throw Json.error("key", "must be a key id, 16 lowercase hex digits");
            }
            String algorithm = j.string("algorithm", null);
            byte[] sig;
            try {
                sig = Base64.getDecoder().decode(j.string("signature", null));
            } catch (IllegalArgumentException e) {
                throw Json.error("signature", "must be base64");
            }
            j.done();
            return new BundleSignature(digest, key, algorithm, sig);
        } catch (BundleException e) {
            String m = e.getMessage();
            throw new BundleException(m.startsWith("signature: ") ? m : "signature: " + m, e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BundleSignature s && digest.equals(s.digest) && key.equals(s.key)
                && algorithm.equals(s.algorithm) && java.util.Arrays.equals(signature, s.signature);
    }

    @Override
    public int hashCode() {
        return digest.hashCode();
    }

    @Override
    public String toString() {
        return "BundleSignature[" + digest + " by " + key + "]";
    }
}
