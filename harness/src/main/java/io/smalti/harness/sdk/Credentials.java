package io.smalti.harness.sdk;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Operations on credentials of the node's vault, run by the node's credentials service for this component: the
 * component gets MACs, signatures and headers, never the secrets. Which operations a component may run on which
 * credential is the vault's policy (by component type or id; nothing is allowed by default): a denial fails with
 * {@link ErrorCode#FORBIDDEN} (whether or not the credential exists), a granted name that holds no credential with
 * {@link ErrorCode#UNKNOWN_TARGET}. Thread-safe.
 */
public interface Credentials {
    /** A signature, its algorithm (e.g. SHA256withECDSA, Ed25519) and the public key that verifies it (DER). */
    record Signature(byte[] signature, String algorithm, byte[] publicKey) {
    }

    /** A request to sign with AWS Signature Version 4; {@code payloadSha256} is hex or "UNSIGNED-PAYLOAD". */
    record AwsRequest(String method, String host, String path, List<Map.Entry<String, String>> query,
                      List<Map.Entry<String, String>> headers, String payloadSha256, String region, String service,
                      Instant time) {
    }

    CompletableFuture<byte[]> hmacSha256(String credential, byte[] data);

    CompletableFuture<byte[]> hmacSha512(String credential, byte[] data);

    CompletableFuture<Signature> sign(String credential, byte[] data);

    /** The value of an {@code Authorization} header for a Basic or Bearer credential. */
    CompletableFuture<String> authorization(String credential);

    /** The headers to add to the request (Authorization, X-Amz-Date, ...). */
    CompletableFuture<Map<String, String>> awsSign(String credential, AwsRequest request);
}
