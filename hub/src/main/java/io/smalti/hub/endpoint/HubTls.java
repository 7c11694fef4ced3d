package io.smalti.hub.endpoint;

import io.netty.handler.ssl.SslContext;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What the hub endpoint needs of its node's credentials: the TLS server context (current certificate; it changes on
 * renewal, and each new connection takes the current one), the check of a harness's client certificate, and the
 * issuance of harness certificates (against a one-time token, or renewal for a verified identity). Implementations
 * are thread-safe; the futures may complete on any thread (the endpoint hops back to the connection's loop).
 */
public interface HubTls {
    /** A certificate issued to a harness, with the CA's (both DER). */
    record Issued(byte[] certificate, byte[] caCertificate, long notAfterMillis) {
    }

    /** The server context for the next connection: the node's certificate, client certificates optional. */
    SslContext serverContext();

    /**
     * Why the client certificate chain of a connection that claims {@code component} must be refused (no
     * certificate, another CA, expired, revoked, another component's or another node's), or empty when it may speak.
     */
    Optional<String> refusal(X509Certificate[] chain, String component);

    /** Redeems a harness's one-time token for a certificate of {@code publicKey}; fails with the reason. */
    CompletionStage<Issued> redeem(String token, byte[] publicKey);

    /** A renewed certificate for a component whose current certificate was verified. */
    CompletionStage<Issued> renew(String component, byte[] publicKey);

    /**
     * What harnesses trust for their hub, PEM: the cluster CA certificate, optionally followed by the hub's current
     * certificate (which a harness pins).
     */
    String caPem();
}
