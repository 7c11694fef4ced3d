package io.smalti.node.security;

import io.smalti.credentials.ca.Identity;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.pekko.remote.artery.tcp.SSLEngineProvider;
import scala.Option;

/**
 * TLS for the cluster transport (Pekko Artery {@code tls-tcp}): both sides present their node certificate, both
 * require the other's to chain to the cluster CA (PKIX), to be a node certificate of this cluster and not revoked.
 * Each new connection takes the current certificate, so renewals need no restart.
 *
 * <p>Why not Pekko's {@code RotatingKeysSSLEngineProvider}: its PEM loader reads RSA keys only (DERPrivateKeyLoader
 * builds keys with {@code KeyFactory.getInstance("RSA")}), and node certificates are EC by default. Thread-safe.
 */
public final class ArteryTls implements SSLEngineProvider {
    private static final String[] PROTOCOLS = {"TLSv1.3"};
    private final NodeCredentials credentials;

    public ArteryTls(NodeCredentials credentials) {
        this.credentials = credentials;
    }

    @Override
    public SSLEngine createServerSSLEngine(String hostname, int port) {
        SSLEngine e = credentials.current().context().createSSLEngine(hostname, port);
        e.setUseClientMode(false);
        e.setNeedClientAuth(true);
        e.setEnabledProtocols(PROTOCOLS);
        return e;
    }

    @Override
    public SSLEngine createClientSSLEngine(String hostname, int port) {
        SSLEngine e = credentials.current().context().createSSLEngine(hostname, port);
        e.setUseClientMode(true);
        e.setEnabledProtocols(PROTOCOLS);
        return e;
    }

    @Override
    public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
        return verify(session);
    }

    @Override
    public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
        return verify(session);
    }

    private Option<Throwable> verify(SSLSession session) {
        try {
            X509Certificate peer = (X509Certificate) session.getPeerCertificates()[0];
            return TlsMaterial.refusal(peer, credentials.cluster(), Set.of(Identity.NODE), credentials.revoked())
                    .<Option<Throwable>>map(why -> Option.apply(new SSLException("cluster peer refused: " + why)))
                    .orElse(Option.empty());
        } catch (SSLPeerUnverifiedException e) {
            return Option.apply(e);
        }
    }
}
