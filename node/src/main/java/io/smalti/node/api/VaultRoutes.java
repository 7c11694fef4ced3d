package io.smalti.node.api;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.Rule;
import io.smalti.node.security.NodeCredentials;
import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.CredentialInfo;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.VaultOperation;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.SslSessionInfo;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;

/**
 * The vault through the REST API (behind {@link ApiGuard}), as the operator whose certificate the request came
 * with: {@code /v1/credentials} (list, put, delete), {@code /v1/credentials-policy}, {@code /v1/credentials-audit}.
 * The confidential part of a credential goes in and never comes out. Service calls run on {@code blocking}.
 */
final class VaultRoutes extends AllDirectives {
    private static final long MAX_BODY = 256 * 1024;

    private final NodeCredentials credentials;
    private final Materializer materializer;
    private final Executor blocking;

    VaultRoutes(NodeCredentials credentials, Materializer materializer, Executor blocking) {
        this.credentials = credentials;
        this.materializer = materializer;
        this.blocking = blocking;
    }

    /** A credential as listed: never its confidential part. */
    record CredentialBody(String name, String kind, String shareable, String publicKey, String created) {}

    record CredentialsBody(List<CredentialBody> credentials) {}

    record RuleBody(String identity, String componentType, List<String> operations, String credential) {}

    record PolicyBody(List<RuleBody> rules) {}

    record AuditBody(String time, String caller, String componentType, String operation, String credential, String outcome,
                     String reason, long inputLength) {}

    record AuditsBody(List<AuditBody> events) {}

    record DeletedBody(String name, boolean existed) {}

    Route routes() {
        return optionalAttribute(AttributeKeys.sslSession, ssl -> {
            Caller caller = caller(ssl);
            return concat(
                    path(segment("v1").slash("credentials"), () -> get(() -> parameterOptional("prefix", prefix ->
                            run(() -> Json.response(StatusCodes.OK, new CredentialsBody(credentials.client()
                                    .list(caller, prefix.orElse("")).stream().map(VaultRoutes::body).toList())))))),
                    path(segment("v1").slash("credentials").slash(segment()), name -> concat(
                            put(() -> json(body -> put(caller, name, body))),
                            delete(() -> run(() -> Json.response(StatusCodes.OK,
                                    new DeletedBody(name, credentials.client().delete(caller, name))))))),
                    path(segment("v1").slash("credentials-policy"), () -> concat(
                            get(() -> run(() -> Json.response(StatusCodes.OK, policy(credentials.client().policy(caller))))),
                            put(() -> json(body -> Json.response(StatusCodes.OK,
                                    policy(credentials.client().setPolicy(caller, rules(body)))))))),
                    path(segment("v1").slash("credentials-audit"), () -> get(() -> parameterOptional("latest", n ->
                            run(() -> Json.response(StatusCodes.OK, new AuditsBody(credentials.client()
                                    .audit(caller, latest(n)).stream().map(VaultRoutes::audit).toList())))))));
        });
    }

    /** The operator (or viewer) of the request's certificate, which {@link ApiGuard} has verified. */
    private static Caller caller(Optional<SslSessionInfo> ssl) {
        try {
            X509Certificate peer = (X509Certificate) ssl.orElseThrow().getSession().getPeerCertificates()[0];
            Identity id = Identity.of(peer).orElseThrow().identity();
            return new Caller(id, "");
        } catch (SSLPeerUnverifiedException | RuntimeException e) {
            throw new IllegalStateException("no verified client certificate", e);
        }
    }

    private HttpResponse put(Caller caller, String name, JsonNode body) {
        CredentialKind kind;
        try {
            kind = CredentialKind.valueOf(body.path("kind").asText("").toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"kind\" must be one of hmac-key, aws-access-key, ed25519-key, "
                    + "ecdsa-p256-key, rsa-key, basic, bearer; not '" + body.path("kind").asText("") + "'");
        }
        boolean replace = body.path("replace").asBoolean(false);
        CredentialInfo info;
        if (body.path("generate").asBoolean(false)) {
            info = credentials.client().generate(caller, name, kind, replace);
        } else {
            byte[] secret;
            if (body.path("confidentialBase64").isTextual()) {
                secret = Base64.getDecoder().decode(body.path("confidentialBase64").asText());
            } else if (body.path("confidential").isTextual()) {
                secret = body.path("confidential").asText().getBytes(StandardCharsets.UTF_8);
            } else {
                throw new IllegalArgumentException("give \"confidential\" (text), \"confidentialBase64\" or \"generate\": true");
            }
            info = credentials.client().put(caller, name, kind, body.path("shareable").asText(""), secret, replace);
        }
        return Json.response(StatusCodes.CREATED, body(info));
    }

    private static CredentialBody body(CredentialInfo i) {
        return new CredentialBody(i.getName(), i.getKind().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                i.getShareable().isEmpty() ? null : i.getShareable(),
                i.getPublicKey().isEmpty() ? null : Base64.getEncoder().encodeToString(i.getPublicKey().toByteArray()),
                i.getCreatedMs() == 0 ? null : Instant.ofEpochMilli(i.getCreatedMs()).toString());
    }

    private static PolicyBody policy(List<Rule> rules) {
        List<RuleBody> out = new ArrayList<>();
        for (Rule r : rules) {
            List<String> ops = r.operations().stream().map(Enum::name).sorted().toList();
            if (r.subject() instanceof Rule.OfIdentity i) {
                out.add(new RuleBody(i.subsystem() + ":" + i.uid(), null, ops, r.credential()));
            } else {
                out.add(new RuleBody(null, ((Rule.OfType) r.subject()).componentType(), ops, r.credential()));
            }
        }
        return new PolicyBody(out);
    }

    /** {"rules": [{"identity": "harness:ID" | "componentType": "echo", "operations": ["HMAC"], "credential": "x*"}]} */
    private static List<Rule> rules(JsonNode body) {
        if (!body.path("rules").isArray()) {
            throw new IllegalArgumentException("\"rules\" must be an array");
        }
        List<Rule> rules = new ArrayList<>();
        for (JsonNode r : body.path("rules")) {
            Rule.Subject subject;
            if (r.path("identity").isTextual()) {
                String[] parts = r.path("identity").asText().split(":", 2);
                if (parts.length != 2) {
                    throw new IllegalArgumentException("a rule's identity is SUBSYSTEM:UID, e.g. harness:<id>, not '"
                            + r.path("identity").asText() + "'");
                }
                subject = new Rule.OfIdentity(parts[0], parts[1]);
            } else if (r.path("componentType").isTextual()) {
                subject = new Rule.OfType(r.path("componentType").asText());
            } else {
                throw new IllegalArgumentException("a rule needs \"identity\" or \"componentType\"");
            }
            Set<VaultOperation> ops = EnumSet.noneOf(VaultOperation.class);
            for (JsonNode op : r.path("operations")) {
                try {
                    ops.add(VaultOperation.valueOf(op.asText().toUpperCase(Locale.ROOT).replace('-', '_')));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("unknown operation '" + op.asText() + "'");
                }
            }
            rules.add(new Rule(subject, ops, r.path("credential").asText(null)));
        }
        return rules;
    }

    private static AuditBody audit(AuditEvent e) {
        return new AuditBody(Instant.ofEpochMilli(e.getTimeMs()).toString(),
                e.getCaller().getSubsystem() + ":" + e.getCaller().getUid(),
                e.getComponentType().isEmpty() ? null : e.getComponentType(), e.getOperation().name(),
                e.getCredential(), e.getOutcome().name(), e.getReason().isEmpty() ? null : e.getReason(), e.getInputLength());
    }

    private static int latest(Optional<String> n) {
        try {
            int v = n.map(Integer::parseInt).orElse(100);
            if (v < 1 || v > 1000) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("latest must be 1..1000, not '" + n.orElse("") + "'");
        }
    }

    private Route run(java.util.function.Supplier<HttpResponse> call) {
        return completeWithFuture(CompletableFuture.supplyAsync(() -> answer(call), blocking));
    }

    private Route json(Function<JsonNode, HttpResponse> handler) {
        return withSizeLimit(MAX_BODY, () -> extractRequestEntity(entity -> completeWithFuture(
                entity.toStrict(5_000, materializer).thenApplyAsync(strict -> {
                    JsonNode body;
                    try {
                        body = Json.mapper().readTree(strict.getData().toArray());
                    } catch (java.io.IOException e) {
                        return Json.error(StatusCodes.BAD_REQUEST, "the body is not JSON: " + e.getMessage());
                    }
                    return answer(() -> handler.apply(body));
                }, blocking))));
    }

    private static HttpResponse answer(java.util.function.Supplier<HttpResponse> call) {
        try {
            return call.get();
        } catch (CredentialsClient.Refused e) {
            return Json.error(e.code == Refusal.Code.DENIED ? StatusCodes.FORBIDDEN
                    : e.code == Refusal.Code.NOT_FOUND ? StatusCodes.NOT_FOUND : StatusCodes.BAD_REQUEST, e.getMessage());
        } catch (IllegalArgumentException e) {
            return Json.error(StatusCodes.BAD_REQUEST, e.getMessage());
        } catch (RuntimeException e) {
            return Json.error(StatusCodes.SERVICE_UNAVAILABLE, "the credentials service failed: " + e.getMessage());
        }
    }
}
