package io.smalti.node.api;

import io.smalti.credentials.ca.Identity;
import io.smalti.node.security.TlsMaterial;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.SslSessionInfo;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the REST API, checked before any route: the TLS client certificate (required in the handshake,
 * chained to the cluster CA) must be an operator's, a viewer's or a node's of this cluster and not revoked; a viewer
 * may only read (GET, HEAD); and the request's Host and Origin must be this API's own, so that a web page in a local
 * browser cannot drive it (no cross-site requests, no DNS rebinding). Stateless; runs on the HTTP server's threads.
 */
public final class ApiGuard extends AllDirectives {
    private static final Logger LOG = LoggerFactory.getLogger(ApiGuard.class);
    private static final Set<String> CALLERS = Set.of(Identity.OPERATOR, Identity.VIEWER, Identity.NODE);

    private final String cluster;
    private final String host;
    private final Set<String> hosts;
    private final int port;
    private final Supplier<Set<BigInteger>> revoked;

    /**
     * @param host  the API's configured host: its own URL names it
     * @param hosts the names this API answers to (its configured host, and localhost names for a loopback one)
     */
    public ApiGuard(String cluster, String host, Set<String> hosts, int port, Supplier<Set<BigInteger>> revoked) {
        this.cluster = cluster;
        this.host = host;
        this.hosts = Set.copyOf(hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
        this.port = port;
        this.revoked = revoked;
    }

    /** This API's own base URL. */
    public String selfApi() {
        return "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** {@code inner} behind the checks. */
    public Route guard(Route inner) {
        return extractRequest(request -> optionalAttribute(AttributeKeys.sslSession, ssl -> {
            Optional<String> refusal = hostOrOrigin(request);
            if (refusal.isPresent()) {
                return complete(Json.error(StatusCodes.FORBIDDEN, refusal.get()));
            }
            X509Certificate peer = peer(ssl);
            if (peer == null && request.method().equals(HttpMethods.POST) && request.getUri().path().equals("/v1/join")) {
                return inner; // a machine joining has no certificate yet: its one-time token is the authority
            }
            if (peer == null) {
                return complete(Json.error(StatusCodes.UNAUTHORIZED, "no client certificate: the REST API needs an "
                        + "operator or viewer certificate of this cluster (smalti operator cert)"));
            }
            Optional<String> bad = TlsMaterial.refusal(peer, cluster, CALLERS, revoked.get());
            if (bad.isPresent()) {
                LOG.warn("Refused a REST request ({} {}): {}", request.method().value(), request.getUri().path(), bad.get());
                return complete(Json.error(StatusCodes.FORBIDDEN, bad.get()));
            }
            Identity caller = Identity.of(peer).orElseThrow().identity();
            if (!caller.mayChange() && !readOnly(request)) {
                return complete(Json.error(StatusCodes.FORBIDDEN, "viewer " + caller.uid() + " may read but not change "
                        + "anything (" + request.method().value() + " " + request.getUri().path() + ")"));
            }
            return inner;
        }));
    }

    private static boolean readOnly(HttpRequest r) {
        return r.method().equals(HttpMethods.GET) || r.method().equals(HttpMethods.HEAD);
    }

    /** Why the request's Host or Origin is not this API, if it is not. */
    Optional<String> hostOrOrigin(HttpRequest r) {
        Optional<org.apache.pekko.http.javadsl.model.headers.Host> host =
                r.getHeader(org.apache.pekko.http.javadsl.model.headers.Host.class);
        if (host.isEmpty()) {
            return Optional.of("the request has no Host header");
        }
        String name = host.get().host().address().toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        int p = host.get().port();
        if (!hosts.contains(name) || (p != 0 && p != port) || (p == 0 && port != 443)) {
            return Optional.of("Host " + host.get().host().address() + (p == 0 ? "" : ":" + p) + " is not this API ("
                    + String.join(", ", hosts) + " port " + port + ")");
        }
        Optional<org.apache.pekko.http.javadsl.model.HttpHeader> origin = r.getHeader("origin");
        if (origin.isPresent()) {
            String expected = "https://" + host.get().host().address() + (p == 0 ? "" : ":" + p);
            if (!origin.get().value().equalsIgnoreCase(expected)) {
                return Optional.of("cross-site request refused: Origin " + origin.get().value() + " is not " + expected);
            }
        }
        return Optional.empty();
    }

    private static X509Certificate peer(Optional<SslSessionInfo> ssl) {
        if (ssl.isEmpty()) {
            return null;
        }
        try {
            java.security.cert.Certificate[] certs = ssl.get().getSession().getPeerCertificates();
            return certs.length == 0 ? null : (X509Certificate) certs[0];
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
