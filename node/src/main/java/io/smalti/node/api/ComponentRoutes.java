package io.smalti.node.api;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.smalti.component.bundles.BundleRepository;
import io.smalti.component.instances.ComponentController;
import io.smalti.component.instances.InstanceView;
import io.smalti.protocol.component.BundleMeta;
import io.smalti.protocol.component.InstanceStatus;
import io.smalti.protocol.component.TypeRecord;
import io.smalti.ring.vnode.VnodeTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * The component controller's REST endpoints (docs/api.md, "Components"): bundles, types, instances and
 * node drains. Any node answers; handlers never block.
 */
final class ComponentRoutes extends AllDirectives {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ComponentRoutes.class);
    /** The signature header of a pushed bundle: base64 of the detached signature file. */
    static final String SIGNATURE_HEADER = "Smalti-Signature";

    private final ComponentController controller;
    private final BundleRepository bundles;
    private final Supplier<SortedSet<String>> listedNodes;
    private final BodyLimit jsonLimit;
    /** The bundle push: the repository's largest archive. */
    private final BodyLimit bundleLimit;
    private final Materializer materializer;

    /**
     * @param listedNodes the nodes {@code GET /v1/nodes} lists (members and departed ones): the nodes an operator
     *     can drain, besides those the controller knows by their node records
     * @param jsonLimit the limit of every JSON body (the bundle push takes up to the repository's largest archive)
     */
    ComponentRoutes(ComponentController controller, BundleRepository bundles, Supplier<SortedSet<String>> listedNodes,
                    BodyLimit jsonLimit, Materializer materializer) {
        this.controller = controller;
        this.bundles = bundles;
        this.listedNodes = listedNodes;
        this.jsonLimit = jsonLimit;
        this.bundleLimit = new BodyLimit(bundles.maxArchiveBytes());
        this.materializer = materializer;
    }

    record BundleBody(String digest, String name, String version, long size, String signedBy, String storedAt) {}

    record BundlesBody(List<BundleBody> bundles) {}

    record TypeBody(String id, String name, String version, String bundle, int desired, Integer instances,
                    Integer available, String registeredAt, boolean unregistered) {}

    record TypesBody(List<TypeBody> types) {}

    record ChangeBody(String state, String at, String reason) {}

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record InstanceBody(String id, String type, String typeName, String node, String state, String since,
                        String createdAt, String goal, String reason, String address, Long memoryBytes, Double cpuSeconds,
                        String driver, @JsonInclude(JsonInclude.Include.NON_NULL) List<ChangeBody> history) {}

    record InstancesBody(List<InstanceBody> instances) {}

    record TerminatedBody(String id, String goal) {}

    record UnregisteredBody(String id, boolean unregistered) {}

    record DrainBody(String node, String state, boolean drained, int moving) {}
    record StoppingBody(String node, boolean stopping) {}

    Route routes() {
        ComponentController c = controller;
        return concat(
                path(segment("v1").slash("bundles"), () -> concat(
                        get(() -> completeWithFuture(guard(() -> bundles.list().thenApply(list ->
                                Json.response(StatusCodes.OK, new BundlesBody(list.stream()
                                        .sorted(Comparator.comparing(BundleMeta::getName).thenComparing(BundleMeta::getStoredAtMillis))
                                        .map(ComponentRoutes::bundle).toList())))))),
                        post(() -> headerValueByName(SIGNATURE_HEADER, sig -> bundleLimit.apply(() ->
                                extractRequestEntity(entity -> completeWithFuture(push(entity, sig)))))))),
                path(segment("v1").slash("bundles").slash(segment()), digest -> get(() -> completeWithFuture(guard(() ->
                        bundles.meta(digest).thenApply(m -> m.map(b -> Json.response(StatusCodes.OK, bundle(b)))
                                .orElse(Json.error(StatusCodes.NOT_FOUND, "no bundle " + digest + " is stored"))))))),
                path(segment("v1").slash("types"), () -> concat(
                        get(() -> completeWithFuture(guard(() -> c.types().thenApply(list -> Json.response(StatusCodes.OK,
                                new TypesBody(list.stream().map(v -> type(v.type(), v.instances(), v.available())).toList())))))),
                        post(() -> json(body -> {
                            String digest = text(body, "bundle");
                            Optional<Integer> count = body.has("count") ? Optional.of(count(body, 0)) : Optional.empty();
                            return c.register(digest, count).thenApply(e -> Json.response(
                                    e.getValue() ? StatusCodes.CREATED : StatusCodes.OK, type(e.getKey(), null, null)));
                        })))),
                path(segment("v1").slash("types").slash(segment()), id -> concat(
                        get(() -> completeWithFuture(guard(() -> c.type(id).thenApply(t -> Json.response(StatusCodes.OK, type(t, null, null)))))),
                        delete(() -> completeWithFuture(guard(() -> c.unregister(id).thenApply(t ->
                                Json.response(StatusCodes.OK, new UnregisteredBody(t.getId(), true)))))))),
                path(segment("v1").slash("types").slash(segment()).slash("scale"), id -> put(() -> json(body ->
                        c.scale(id, count(body, 0)).thenApply(t -> Json.response(StatusCodes.OK, type(t, null, null)))))),
                path(segment("v1").slash("instances"), () -> concat(
                        get(() -> parameterOptional("type", type -> completeWithFuture(guard(() -> (type.isPresent()
                                ? instancesOfType(type.get())
                                : c.instances()).thenCompose(this::withTypeNames).thenApply(list ->
                                Json.response(StatusCodes.OK, new InstancesBody(list))))))),
                        post(() -> json(body -> c.create(text(body, "type"), count(body, 1))
                                .thenCompose(t -> c.instancesOf(t.getId())).thenCompose(this::withTypeNames)
                                .thenApply(list -> Json.response(StatusCodes.CREATED, new InstancesBody(list))))))),
                path(segment("v1").slash("instances").slash(segment()), id -> concat(
                        get(() -> completeWithFuture(guard(() -> c.instance(id).thenCompose(found -> found.isEmpty()
                                ? CompletableFuture.completedFuture(Json.error(StatusCodes.NOT_FOUND, "no instance " + id))
                                : withTypeNames(List.of(found.get()), true).thenApply(list -> Json.response(StatusCodes.OK, list.get(0))))))),
                        delete(() -> parameterOptional("force", force -> completeWithFuture(guard(() ->
                                c.terminate(id, force.map(Boolean::parseBoolean).orElse(false)).thenApply(v -> Json.response(
                                        StatusCodes.ACCEPTED, new TerminatedBody(v.id(), v.placement().getGoal().name().toLowerCase()))))))))),
                path(segment("v1").slash("nodes").slash(segment()).slash("drain"), node -> post(() -> completeWithFuture(guard(() ->
                        known(node).thenCompose(k -> c.drain(node, true, "drained by an operator"))
                                .thenCompose(x -> c.instances()).thenApply(all -> Json.response(
                                StatusCodes.ACCEPTED, new DrainBody(node, "unavailable", true, (int) all.stream()
                                        .filter(i -> i.live() && i.placement().getNode().equals(node)).count()))))))),
                path(segment("v1").slash("nodes").slash(segment()).slash("undrain"), node -> post(() -> completeWithFuture(guard(() ->
                        known(node).thenCompose(k -> c.drain(node, false, "")).thenApply(x -> Json.response(StatusCodes.OK,
                                new DrainBody(node, "available", false, 0))))))),
                // A planned stop, announced before it happens (`cluster down` marks every node before stopping
                // any): the node takes no new instances; its own instances stay until it stops.
                path(segment("v1").slash("nodes").slash(segment()).slash("stopping"), node -> post(() -> completeWithFuture(guard(() ->
                        known(node).thenCompose(k -> c.markStopping(node, true, "a planned stop")).thenApply(x ->
                                Json.response(StatusCodes.ACCEPTED, new StoppingBody(node, true))))))));
    }

    /**
     * Completes when an operator may drain the node: {@code GET /v1/nodes} lists it, or the controller has its node
     * record (it reported once, e.g. before it was removed). Else fails (404) naming the nodes that are listed: a
     * misspelt name would leave a drain mark that no node ever reads.
     */
    private CompletionStage<Void> known(String node) {
        SortedSet<String> listed = listedNodes.get();
        if (listed.contains(node)) {
            return CompletableFuture.completedFuture(null);
        }
        return controller.nodeStatus(node).thenAccept(status -> {
            if (status.isEmpty()) {
                throw new NoSuchElementException("no node " + node + " is known: " + (listed.isEmpty()
                        ? "this node lists no nodes yet (it has not joined a cluster)"
                        : "the nodes are " + String.join(", ", listed)));
            }
        });
    }

    /** The instances of a type by id, or of every type (unregistered ones too) with that name. */
    private CompletionStage<List<InstanceView>> instancesOfType(String idOrName) {
        ComponentController c = controller;
        if (idOrName.length() == io.smalti.ring.id.Id.TEXT_LENGTH) {
            return c.type(idOrName).thenCompose(t -> c.instancesOf(t.getId()));
        }
        return c.typeRecords().thenCompose(types -> {
            List<String> ids = types.stream()
                    .filter(t -> t.getName().equals(idOrName)).map(TypeRecord::getId).toList();
            if (ids.isEmpty()) {
                throw new java.util.NoSuchElementException("no component type is named " + idOrName);
            }
            List<CompletableFuture<List<InstanceView>>> lists = ids.stream().map(id -> c.instancesOf(id).toCompletableFuture()).toList();
            return CompletableFuture.allOf(lists.toArray(CompletableFuture[]::new))
                    .thenApply(x -> lists.stream().flatMap(f -> f.join().stream()).toList());
        });
    }

    /**
     * Streams the pushed archive to a file in the repository's directory (a bundle may be 256 MiB: never in memory
     * whole), then verifies and stores it from there; the file is deleted whatever the outcome.
     */
    private CompletionStage<HttpResponse> push(RequestEntity entity, String signatureHeader) {
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(signatureHeader.trim());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(Json.error(StatusCodes.BAD_REQUEST,
                    SIGNATURE_HEADER + " must be the base64 of the bundle's signature file: " + e.getMessage()));
        }
        Path file;
        try {
            file = bundles.newUpload();
        } catch (IOException e) {
            entity.discardBytes(materializer);
            return CompletableFuture.completedFuture(Json.error(StatusCodes.INTERNAL_SERVER_ERROR,
                    "cannot receive the bundle on this node: " + e.getMessage()));
        }
        return VnodeTransport.adopt(entity.getDataBytes().runWith(FileIO.toPath(file), materializer),
                        materializer.executionContext())
                .thenCompose(written -> bundles.store(file, signature))
                .thenApply(s -> Json.response(s.created() ? StatusCodes.CREATED : StatusCodes.OK, bundle(s.meta())))
                .exceptionally(Json::failure)
                .whenComplete((r, err) -> {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException e) {
                        LOG.warn("Cannot delete {}: {}", file, e.getMessage());
                    }
                });
    }

    private CompletionStage<List<InstanceBody>> withTypeNames(List<InstanceView> views) {
        return withTypeNames(views, false);
    }

    private CompletionStage<List<InstanceBody>> withTypeNames(List<InstanceView> views, boolean history) {
        return controller.typeRecords().thenApply(types -> views.stream()
                .sorted(Comparator.comparing((InstanceView v) -> v.placement().getCreatedAtMillis()))
                .map(v -> instance(v, types.stream()
                        .filter(t -> t.getId().equals(v.placement().getType())).map(TypeRecord::getName).findFirst().orElse(null), history))
                .toList());
    }

    private static InstanceBody instance(InstanceView v, String typeName, boolean history) {
        Optional<InstanceStatus> s = v.status();
        return new InstanceBody(v.id(), v.placement().getType(), typeName, v.placement().getNode(), v.state().text(),
                s.map(x -> time(x.getSinceMillis())).orElse(null), time(v.placement().getCreatedAtMillis()),
                v.placement().getGoal().name().toLowerCase(), s.map(InstanceStatus::getReason).orElse(v.placement().getReason()),
                s.map(InstanceStatus::getAddress).filter(a -> !a.isEmpty()).orElse(null),
                s.filter(InstanceStatus::getHasUsage).map(InstanceStatus::getMemoryBytes).orElse(null),
                s.filter(InstanceStatus::getHasUsage).map(x -> x.getCpuNanos() / 1e9).orElse(null),
                s.map(InstanceStatus::getDriver).filter(d -> !d.isEmpty()).orElse(null),
                history ? s.map(x -> x.getHistoryList().stream()
                        .map(h -> new ChangeBody(h.getState(), time(h.getAtMillis()), h.getReason())).toList()).orElse(List.of()) : null);
    }

    private static BundleBody bundle(BundleMeta m) {
        return new BundleBody(m.getDigest(), m.getName(), m.getVersion(), m.getSize(), m.getSignedBy(), time(m.getStoredAtMillis()));
    }

    private static TypeBody type(TypeRecord t, Integer instances, Integer available) {
        return new TypeBody(t.getId(), t.getName(), t.getVersion(), t.getBundle(), t.getDesired(), instances, available,
                time(t.getRegisteredAtMillis()), t.getUnregistered());
    }

    private static String time(long millis) {
        return millis == 0 ? null : Instant.ofEpochMilli(millis).toString();
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new IllegalArgumentException("the body needs \"" + field + "\" (a string)");
        }
        return v.asText();
    }

    /**
     * The body's {@code "count"}: a whole number (3 and 3.0, not 2.5 or "3"). Its range is the controller's to
     * check; {@code min} (0, or 1 to add instances) words the errors the same way.
     */
    private static int count(JsonNode body, int min) {
        JsonNode v = body.get("count");
        if (v == null) {
            throw new IllegalArgumentException("the body needs \"count\" (a whole number from " + min + " to "
                    + ComponentController.MAX_COUNT + ")");
        }
        if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToInt()) {
            throw ComponentController.badCount(min, v);
        }
        return v.intValue();
    }

    private Route bytes(Function<byte[], CompletionStage<HttpResponse>> handler) {
        return extractRequestEntity(entity -> completeWithFuture(
                VnodeTransport.adopt(entity.toStrict(60_000, materializer), materializer.executionContext())
                        .thenCompose(strict -> handler.apply(strict.getData().toArray()))));
    }

    private Route json(Function<JsonNode, CompletionStage<HttpResponse>> handler) {
        return jsonLimit.apply(() -> bytes(b -> guard(() -> {
            JsonNode body;
            try {
                body = Json.mapper().readTree(b);
            } catch (IOException e) {
                throw new IllegalArgumentException("the body is not JSON: " + e.getMessage());
            }
            if (body == null || !body.isObject()) {
                throw new IllegalArgumentException("the body must be a JSON object");
            }
            return handler.apply(body);
        })));
    }

    /** Runs a handler, turning exceptions (thrown or completed) into error responses. */
    private static CompletionStage<HttpResponse> guard(Supplier<CompletionStage<HttpResponse>> handler) {
        try {
            return handler.get().exceptionally(Json::failure);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(Json.failure(e));
        }
    }
}
