package io.smalti.node.api;

import static org.apache.pekko.http.javadsl.server.PathMatchers.remaining;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.google.protobuf.ByteString;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.kv.KvClient;
import io.smalti.ring.vnode.VnodeTransport;
import io.smalti.ring.vnode.Vnodes;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;

/**
 * Replicated-state endpoints: this node's replicas ({@code GET /v1/vnodes}) and the debug key-value
 * service ({@code GET|PUT|DELETE /v1/debug/kv/{key}}). Handlers never block: they complete when the
 * quorum answers.
 */
final class VnodeRoutes extends AllDirectives {
    /** Largest value the debug service accepts. */
    static final int MAX_VALUE_BYTES = 64 * 1024;

    private final String selfName;
    private final Vnodes vnodes;
    private final KvClient kv;
    /** The most of a value's body that is read; one over {@link #MAX_VALUE_BYTES} but within it is refused once read. */
    private final BodyLimit limit;
    private final Materializer materializer;

    VnodeRoutes(String selfName, Vnodes vnodes, BodyLimit limit, Materializer materializer) {
        this.selfName = selfName;
        this.vnodes = vnodes;
        this.kv = new KvClient(vnodes.client());
        this.limit = limit;
        this.materializer = materializer;
    }

    /** GET /v1/vnodes */
    record VnodesBody(String node, List<Vnodes.ReplicaInfo> replicas, Vnodes.AntiEntropyCounts antiEntropy) {}

    /** A value read from the debug key-value service; {@code valueBase64} replaces {@code value} for non-UTF-8 bytes. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record KvValueBody(String key, String value, String valueBase64, long timestamp, String time, String writer,
                       int vnode, int answered) {}

    /** An acknowledged write. */
    record KvWrittenBody(String key, long timestamp, String time, int acks, String coordinator, int vnode) {}

    Route routes() {
        return concat(
                path(segment("v1").slash("vnodes"), () -> get(this::replicas)),
                pathPrefix(segment("v1").slash("debug").slash("kv"), () -> path(remaining(), this::kvKey)));
    }

    private Route replicas() {
        return completeWithFuture(vnodes.replicas().handle((list, err) -> err != null ? Json.failure(err)
                : Json.response(StatusCodes.OK, new VnodesBody(selfName, list, vnodes.antiEntropy()))));
    }

    private Route kvKey(String key) {
        int r = vnodes.client().settings().readQuorum();
        int w = vnodes.client().settings().writeQuorum();
        return concat(
                get(() -> parameterOptional("r", rq -> completeWithFuture(read(key, quorum(rq, r))))),
                put(() -> parameterOptional("w", wq -> limit.apply(() -> extractRequestEntity(entity -> completeWithFuture(
                        VnodeTransport.adopt(entity.toStrict(5_000, materializer), materializer.executionContext())
                                .thenCompose(strict -> write(key, strict.getData(), quorum(wq, w)))))))),
                delete(() -> parameterOptional("w", wq -> completeWithFuture(delete(key, quorum(wq, w))))));
    }

    private static int quorum(Optional<String> text, int otherwise) {
        if (text.isEmpty()) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(text.get());
            if (n >= 1 && n <= 16) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new IllegalArgumentException("quorum must be a number from 1 to 16, got '" + text.get() + "'");
    }

    private CompletionStage<HttpResponse> read(String key, int r) {
        return kv.get(key, r).handle((value, err) -> {
            if (err != null) {
                return Json.failure(err);
            }
            if (value.isEmpty()) {
                int vnode = vnodes.client().vnodeOf(key).orElse(-1);
                return Json.error(StatusCodes.NOT_FOUND, "key '" + key + "' not found (kv/" + vnode + ", R=" + r + ")");
            }
            KvClient.Value v = value.get();
            if (v.deleted()) {
                return Json.error(StatusCodes.NOT_FOUND, "key '" + key + "' was deleted at " + Hlc.format(v.timestamp())
                        + " via " + v.writer() + " (kv/" + v.vnode() + ")");
            }
            String text = Json.utf8(v.value().toByteArray());
            return Json.response(StatusCodes.OK, new KvValueBody(key, text,
                    text == null ? Base64.getEncoder().encodeToString(v.value().toByteArray()) : null, v.timestamp(), Hlc.format(v.timestamp()), v.writer(), v.vnode(), v.answered()));
        });
    }

    private CompletionStage<HttpResponse> write(String key, org.apache.pekko.util.ByteString body, int w) {
        if (body.size() > MAX_VALUE_BYTES) {
            return java.util.concurrent.CompletableFuture.completedFuture(Json.error(StatusCodes.PAYLOAD_TOO_LARGE,
                    "value is " + body.size() + " bytes; the debug key-value service takes at most " + MAX_VALUE_BYTES));
        }
        return written(key, kv.put(key, ByteString.copyFrom(body.toArray()), w));
    }

    private CompletionStage<HttpResponse> delete(String key, int w) {
        return written(key, kv.delete(key, w));
    }

    private static CompletionStage<HttpResponse> written(String key, CompletionStage<KvClient.Written> stage) {
        return stage.handle((w, err) -> err != null ? Json.failure(err) : Json.response(StatusCodes.OK,
                new KvWrittenBody(key, w.timestamp(), Hlc.format(w.timestamp()), w.acks(), w.coordinator(), w.vnode())));
    }
}
