package io.smalti.node.api;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.smalti.hub.Hub;
import io.smalti.hub.router.Router;
import io.smalti.protocol.hub.AttributeTarget;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Cast;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Selector;
import io.smalti.protocol.hub.Target;
import io.smalti.protocol.hub.UpdateAttributes;
import io.smalti.ring.vnode.VnodeTransport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;

/**
 * The hub's REST endpoints (docs/api.md, "Hub"): where harnesses connect, groups, attributes, and calls
 * and casts from tools. Calls run as this node's tool session; handlers never block.
 */
final class HubRoutes extends AllDirectives {
    private final String selfName;
    private final Hub hub;
    /** A call's input, an attribute value: the hub's own frame limit applies too. */
    private final BodyLimit limit;
    private final Materializer materializer;

    HubRoutes(String selfName, Hub hub, BodyLimit limit, Materializer materializer) {
        this.selfName = selfName;
        this.hub = hub;
        this.limit = limit;
        this.materializer = materializer;
    }

    record HubBody(String node, String endpoint, String certificate, StatsBody stats) {}

    /** The router's counters since the node started. */
    record StatsBody(int components, long routed, long expired, long lateAnswers, long overloaded, long returned,
                     long locationLookups) {}

    record GroupBody(String name, int members) {}

    record GroupsBody(List<GroupBody> groups) {}

    record MemberBody(String component, String node) {}

    record MembersBody(String name, List<MemberBody> members) {}

    record AttributesBody(String kind, String target, Map<String, String> attributes) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record ResultBody(String from, JsonNode output, ErrorBody error) {}

    record ErrorBody(String code, String message) {}

    record CallBody(String target, int asked, List<ResultBody> results, long tookMicros) {}

    record CastBody(String target, int sent) {}

    Route routes() {
        return concat(
                path(segment("v1").slash("hub"), () -> get(() -> json(StatusCodes.OK,
                        new HubBody(selfName, hub.endpoint(), hub.certificatePem(), stats())))),
                path(segment("v1").slash("groups"), () -> get(this::groups)),
                path(segment("v1").slash("groups").slash(segment()), g -> get(() -> members(g))),
                path(segment("v1").slash("attributes").slash(segment()).slash(segment()),
                        (kind, target) -> get(() -> attributes(kind, target))),
                pathPrefix(segment("v1").slash("attributes").slash(segment()).slash(segment()), (kind, target) ->
                        path(segment(), name -> concat(
                                put(() -> body(bytes -> updateAttribute(kind, target, name, bytes))),
                                delete(() -> completeWithFuture(updateAttribute(kind, target, name, null)))))),
                path(segment("v1").slash("call"), () -> post(() -> body(bytes -> call(bytes, true)))),
                path(segment("v1").slash("cast"), () -> post(() -> body(bytes -> call(bytes, false)))));
    }

    private Route body(java.util.function.Function<byte[], CompletionStage<HttpResponse>> handler) {
        return limit.apply(() -> extractRequestEntity(entity -> completeWithFuture(
                VnodeTransport.adopt(entity.toStrict(5_000, materializer), materializer.executionContext())
                        .thenCompose(strict -> handler.apply(strict.getData().toArray())))));
    }

    private StatsBody stats() {
        Router.Stats s = hub.router().stats();
        return new StatsBody(hub.router().connected(), s.routed.sum(), s.expired.sum(), s.lateAnswers.sum(),
                s.overloaded.sum(), s.returned.sum(), s.locationLookups.sum());
    }

    private Route groups() {
        return completeWithFuture(hub.groups().handle((m, err) -> err != null ? Json.failure(err)
                : Json.response(StatusCodes.OK, new GroupsBody(m.entrySet().stream()
                .map(e -> new GroupBody(e.getKey(), e.getValue())).toList()))));
    }

    private Route members(String group) {
        return completeWithFuture(guard(() -> hub.members(group).handle((m, err) -> err != null ? Json.failure(err)
                : Json.response(StatusCodes.OK, new MembersBody(group, m.stream()
                .map(x -> new MemberBody(x.component(), x.node().orElse(null))).toList())))));
    }

    private Route attributes(String kind, String target) {
        return completeWithFuture(guard(() -> hub.attributes(kind, target).handle((m, err) -> {
            if (err != null) {
                return Json.failure(err);
            }
            Map<String, String> shown = new LinkedHashMap<>();
            m.forEach((k, v) -> shown.put(k, text(v)));
            return Json.response(StatusCodes.OK, new AttributesBody(kind, target, shown));
        })));
    }

    private CompletionStage<HttpResponse> updateAttribute(String kind, String target, String name, byte[] value) {
        return guard(() -> {
            Hub.attributesKey(kind, target); // validates kind and target
            AttributeTarget t = kind.equals("group") ? AttributeTarget.newBuilder().setGroup(target).build()
                    : AttributeTarget.newBuilder().setComponent(target).build();
            UpdateAttributes.Builder u = UpdateAttributes.newBuilder().setTarget(t);
            if (value == null) {
                u.addRemove(name);
            } else {
                u.putSet(name, ByteString.copyFrom(value));
            }
            return hub.request(Frame.newBuilder().setUpdateAttributes(u).build()).thenApply(f -> f.hasError()
                    ? hubError(f.getError()) : HttpResponse.create().withStatus(StatusCodes.NO_CONTENT));
        });
    }

    private CompletionStage<HttpResponse> call(byte[] body, boolean isCall) {
        JsonNode req;
        try {
            req = Json.mapper().readTree(body);
        } catch (IOException e) {
            return done(Json.error(StatusCodes.BAD_REQUEST, "the body is not JSON: " + e.getMessage()));
        }
        if (req == null || !req.isObject() || !req.path("target").isTextual() || !req.path("operation").isTextual()) {
            return done(Json.error(StatusCodes.BAD_REQUEST,
                    "expected {\"target\": ..., \"operation\": ..., \"input\": <JSON>, \"selector\": \"any|all\", \"timeoutMs\": N}"));
        }
        String targetText = req.get("target").asText();
        String selectorText = req.path("selector").asText("any");
        if (!selectorText.equals("any") && !selectorText.equals("all")) {
            return done(Json.error(StatusCodes.BAD_REQUEST, "selector must be 'any' or 'all', not '" + selectorText + "'"));
        }
        Target.Builder target = Target.newBuilder().setSelector(selectorText.equals("all") ? Selector.ALL : Selector.ANY);
        if (targetText.startsWith("group:")) {
            target.setGroup(targetText.substring("group:".length()));
        } else if (targetText.matches("[0-9a-fA-F]{40}")) {
            target.setComponent(targetText.toLowerCase());
        } else {
            target.setGroup(targetText);
        }
        JsonNode input = req.has("input") ? req.get("input") : null;
        ByteString inputs;
        try {
            inputs = ByteString.copyFrom(Json.mapper().writeValueAsBytes(input));
        } catch (IOException e) {
            return done(Json.error(StatusCodes.BAD_REQUEST, "cannot encode the input: " + e.getMessage()));
        }
        int timeout = req.path("timeoutMs").asInt(0);
        if (timeout < 0 || timeout > 3_600_000) {
            return done(Json.error(StatusCodes.BAD_REQUEST, "timeoutMs must be 0..3600000, got " + timeout));
        }
        String object = req.path("object").asText("");
        String operation = req.get("operation").asText();
        if (!isCall) {
            Frame f = Frame.newBuilder().setTimeoutMs(timeout).setCast(Cast.newBuilder().setTarget(target)
                    .setObject(object).setOperation(operation).setInputs(inputs)).build();
            return hub.cast(f).thenApply(o -> o.error() != null ? hubError(o.error())
                    : Json.response(StatusCodes.ACCEPTED, new CastBody(targetText, o.sent())));
        }
        long started = System.nanoTime();
        Frame f = Frame.newBuilder().setTimeoutMs(timeout).setCall(Call.newBuilder().setTarget(target)
                .setObject(object).setOperation(operation).setInputs(inputs)).build();
        return hub.request(f).thenApply(answer -> {
            if (answer.hasError()) {
                return hubError(answer.getError());
            }
            List<ResultBody> results = new ArrayList<>();
            for (Result r : answer.getReply().getResultsList()) {
                results.add(new ResultBody(r.getFrom(), r.hasError() ? null : output(r.getOutputs()),
                        r.hasError() ? new ErrorBody(r.getError().getCode().name(), r.getError().getMessage()) : null));
            }
            int asked = Math.max(answer.getReply().getAsked(), results.size());
            return Json.response(StatusCodes.OK, new CallBody(targetText, asked, results, (System.nanoTime() - started) / 1000));
        });
    }

    /** Output bytes as JSON when they are JSON, else as a string (base64 for binary). */
    private static JsonNode output(ByteString bytes) {
        if (bytes.isEmpty()) {
            return com.fasterxml.jackson.databind.node.NullNode.getInstance();
        }
        try {
            JsonNode n = Json.mapper().readTree(bytes.toByteArray());
            if (n != null) {
                return n;
            }
        } catch (IOException notJson) {
            // shown as text below
        }
        return com.fasterxml.jackson.databind.node.TextNode.valueOf(text(bytes));
    }

    private static String text(ByteString bytes) {
        String text = Json.utf8(bytes.toByteArray());
        return text != null ? text : "base64:" + Base64.getEncoder().encodeToString(bytes.toByteArray());
    }

    static HttpResponse hubError(Error e) {
        StatusCode status = switch (e.getCode()) {
            case BAD_REQUEST, TOO_LARGE, UNSUPPORTED_VERSION -> StatusCodes.BAD_REQUEST;
            case UNKNOWN_TARGET, NO_MEMBERS -> StatusCodes.NOT_FOUND;
            case FORBIDDEN -> StatusCodes.FORBIDDEN;
            case EXPIRED -> StatusCodes.GATEWAY_TIMEOUT;
            case OVERLOADED, UNAVAILABLE -> StatusCodes.SERVICE_UNAVAILABLE;
            default -> StatusCodes.BAD_GATEWAY;
        };
        return Json.hubError(status, e.getCode().name(), e.getMessage());
    }

    private static CompletionStage<HttpResponse> guard(java.util.function.Supplier<CompletionStage<HttpResponse>> body) {
        try {
            return body.get();
        } catch (IllegalArgumentException e) {
            return done(Json.hubError(StatusCodes.BAD_REQUEST, "BAD_REQUEST", e.getMessage()));
        }
    }

    private static CompletionStage<HttpResponse> done(HttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    private Route json(StatusCode status, Object body) {
        return complete(Json.response(status, body));
    }
}
