package io.smalti.node.security;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.Pem;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.hub.endpoint.HarnessCertificates;
import io.smalti.hub.endpoint.HubTls;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLException;

/**
 * The hub's credentials on a node: the node certificate as the TLS server context (rebuilt on renewal), harness
 * certificates checked by {@link HarnessCertificates} against the CA and this node's revocation list, and harness
 * enrolment through the node's credentials service. Thread-safe; service calls run on one thread of their own
 * ({@code hub-enrolment}), never on the hub's event loops.
 */
public final class NodeHubTls implements HubTls {
    private final NodeCredentials credentials;
    private final Clock clock;
    private final ExecutorService calls = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hub-enrolment");
        t.setDaemon(true);
        return t;
    });
    private volatile SslContext server;

    public NodeHubTls(NodeCredentials credentials, Clock clock) {
        this.credentials = credentials;
        this.clock = clock;
        this.server = build(credentials.current());
        credentials.onRenewal(m -> server = build(m));
    }

    private static SslContext build(TlsMaterial m) {
        try {
            // Client certificates are requested but not judged in the handshake: a harness without one may only
            // enrol, and one with a bad one is told why at Hello (a TLS alert says nothing a user can act on).
            return SslContextBuilder.forServer(m.key(), m.certificate(), m.ca())
                    .clientAuth(ClientAuth.OPTIONAL)
                    .trustManager(InsecureTrustManagerFactory.INSTANCE)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the hub's TLS context: " + e.getMessage(), e);
        }
    }

    @Override
    public SslContext serverContext() {
        return server;
    }

    @Override
    public Optional<String> refusal(X509Certificate[] chain, String component) {
        return HarnessCertificates.refusal(chain, component, credentials.current().ca(), credentials.cluster(),
                credentials.identity().uid(), credentials.revoked(), clock.instant());
    }

    @Override
    public CompletionStage<Issued> redeem(String token, byte[] publicKey) {
        return CompletableFuture.supplyAsync(() -> issued(credentials.client().redeem(token, publicKey, Identity.HARNESS)),
                calls);
    }

    @Override
    public CompletionStage<Issued> renew(String component, byte[] publicKey) {
        return CompletableFuture.supplyAsync(() -> {
            PublicKey key = Pem.parsePublicKey(publicKey);
            return issued(credentials.client().issue(new Identity(Identity.HARNESS, component, credentials.identity().uid(),
                    List.of()), key, null));
        }, calls);
    }

    private static Issued issued(CredentialsClient.Issued i) {
        try {
            return new Issued(i.certificate().getEncoded(), i.ca().getEncoded(), i.certificate().getNotAfter().getTime());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The CA certificate, then this node's current certificate: harnesses started now pin the latter (a byte compare
     * instead of a signature check in their cold JVM) and check against the CA once the node has renewed.
     */
    @Override
    public String caPem() {
        return Pem.certificate(credentials.current().ca()) + Pem.certificate(credentials.current().certificate());
    }

    /** The one-time token of a harness of {@code component} on this node. */
    public String token(String component) {
        return credentials.client().makeToken(new Identity(Identity.HARNESS, component, credentials.identity().uid(),
                List.of())).value();
    }

    /** Revokes a component's certificates and refreshes the list the hub checks. */
    public void revoke(String component) {
        if (credentials.client().revoke(component) > 0) {
            credentials.revokedChanged();
        }
    }
}
