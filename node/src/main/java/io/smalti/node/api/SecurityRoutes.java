package io.smalti.node.api;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.Pem;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.node.security.NodeCredentials;
import io.smalti.node.security.NodeHubTls;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * Certificates through the REST API (behind {@link ApiGuard}): operator and viewer certificates for a public key
 * ({@code POST /v1/operators}), one-time tokens for a harness of this node ({@code POST /v1/hub/tokens}, for tools
 * that connect to the hub as a component) and the revocation list ({@code GET /v1/crl}, DER). Calls to the
 * credentials service run on {@code blocking}, never on the HTTP threads.
 */
final class SecurityRoutes extends AllDirectives {
    /** Bodies here are a name and a public key. */
    private static final long MAX_BODY = 64 * 1024;

    private final NodeCredentials credentials;
    private final NodeHubTls hubTls;
    private final Duration operatorLifetime;
    private final Materializer materializer;
    private final Executor blocking;
    private final String selfApi;

    SecurityRoutes(NodeCredentials credentials, NodeHubTls hubTls, Duration operatorLifetime, Materializer materializer,
                   Executor blocking, String selfApi) {
        this.selfApi = selfApi;
        this.credentials = credentials;
        this.hubTls = hubTls;
        this.operatorLifetime = operatorLifetime;
        this.materializer = materializer;
        this.blocking = blocking;
    }

    /** POST /v1/operators: the answer. */
    record OperatorCertificateBody(String name, String role, String certificate, String ca, String notAfter) {}

    /** POST /v1/join-tokens: the answer. */
    record JoinTokenBody(String name, String token, String expires) {}

    /** POST /v1/join: the answer (the CA key stays sealed under the master key, which the new node must hold). */
    record JoinBody(String cluster, String ca, String caKey, String masterParams) {}

    /** POST /v1/hub/tokens: the answer. */
    record TokenBody(String component, String node, String token, String expires) {}

    Route routes() {
        return concat(
                path(segment("v1").slash("operators"), () -> post(() -> json(this::operatorCertificate))),
                path(segment("v1").slash("hub").slash("tokens"), () -> post(() -> json(this::token))),
                path(segment("v1").slash("join-tokens"), () -> post(() -> json(this::joinToken))),
                path(segment("v1").slash("join"), () -> post(() -> json(this::join))),
                path(segment("v1").slash("crl"), () -> get(() -> complete(HttpResponse.create()
                        .withEntity(ContentTypes.create(org.apache.pekko.http.javadsl.model.MediaTypes.applicationBinary(
                                "pkix-crl", false)),
                                ByteString.fromArray(credentials.crlDer()))))));
    }

    private Route json(java.util.function.Function<JsonNode, HttpResponse> handler) {
        return withSizeLimit(MAX_BODY, () -> extractRequestEntity(entity -> completeWithFuture(
                entity.toStrict(5_000, materializer).thenComposeAsync(strict -> {
                    JsonNode body;
                    try {
                        body = Json.mapper().readTree(strict.getData().toArray());
                    } catch (java.io.IOException e) {
                        return CompletableFuture.completedFuture(Json.error(StatusCodes.BAD_REQUEST,
                                "the body is not JSON: " + e.getMessage()));
                    }
                    return CompletableFuture.supplyAsync(() -> answer(handler, body), blocking);
                }, blocking))));
    }

    private static HttpResponse answer(java.util.function.Function<JsonNode, HttpResponse> handler, JsonNode body) {
        try {
            return handler.apply(body);
        } catch (IllegalArgumentException e) {
            return Json.error(StatusCodes.BAD_REQUEST, e.getMessage());
        } catch (CredentialsClient.Refused e) {
            return Json.error(StatusCodes.BAD_REQUEST, e.getMessage());
        } catch (RuntimeException e) {
            return Json.error(StatusCodes.SERVICE_UNAVAILABLE, "the credentials service failed: " + e.getMessage());
        }
    }

    private HttpResponse operatorCertificate(JsonNode body) {
        String name = text(body, "name");
        String role = body.path("role").asText(Identity.OPERATOR);
        if (!role.equals(Identity.OPERATOR) && !role.equals(Identity.VIEWER)) {
            throw new IllegalArgumentException("role must be operator or viewer, not '" + role + "'");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text(body, "publicKey"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("publicKey must be base64 (an X.509 SubjectPublicKeyInfo)");
        }
        CredentialsClient.Issued issued = credentials.client().issue(new Identity(role, name, "", List.of()),
                Pem.parsePublicKey(key), operatorLifetime);
        return Json.response(StatusCodes.CREATED, new OperatorCertificateBody(name, role, Pem.certificate(issued.certificate()),
                Pem.certificate(issued.ca()), issued.certificate().getNotAfter().toInstant().toString()));
    }

    private HttpResponse joinToken(JsonNode body) {
        String name = text(body, "name");
        CredentialsClient.Token t = credentials.client().makeToken(new Identity(Identity.NODE, name, name, List.of()));
        String text = new io.smalti.node.security.JoinToken(selfApi, t.value(),
                io.smalti.node.security.JoinToken.sha256(credentials.current().ca())).text();
        return Json.response(StatusCodes.CREATED, new JoinTokenBody(name, text, t.expires().toString()));
    }

    /** Redeems a node's join token (no client certificate: the token is the authority) for the CA directory. */
    private HttpResponse join(JsonNode body) {
        String name = text(body, "name");
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text(body, "publicKey"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("publicKey must be base64 (an X.509 SubjectPublicKeyInfo)");
        }
        CredentialsClient.Issued issued = credentials.client().redeem(text(body, "token"), key, Identity.NODE);
        String bound = Identity.of(issued.certificate()).map(n -> n.identity().uid()).orElse("?");
        if (!bound.equals(name)) {
            throw new IllegalArgumentException("the join token was made for node " + bound + ", not " + name);
        }
        java.nio.file.Path dir = credentials.settings().dir();
        try {
            return Json.response(StatusCodes.OK, new JoinBody(credentials.cluster(), Pem.certificate(issued.ca()),
                    Base64.getEncoder().encodeToString(java.nio.file.Files.readAllBytes(
                            dir.resolve(io.smalti.credentials.ca.ClusterCa.KEY_FILE))),
                    Base64.getEncoder().encodeToString(java.nio.file.Files.readAllBytes(
                            dir.resolve(io.smalti.credentials.MasterKey.PARAMS_FILE)))));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the CA directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private HttpResponse token(JsonNode body) {
        String component = text(body, "component");
        if (!component.matches("[0-9a-f]{40}")) {
            throw new IllegalArgumentException("component must be a component id (40 lowercase hex digits), not '"
                    + component + "'");
        }
        String token = hubTls.token(component);
        return Json.response(StatusCodes.CREATED, new TokenBody(component, credentials.identity().uid(), token,
                java.time.Instant.now().plus(credentials.settings().tokenExpiry()).toString()));
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.path(field);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException("\"" + field + "\" is missing (a string)");
        }
        return v.asText();
    }
}
