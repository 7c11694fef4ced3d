package io.smalti.hub;

import com.google.protobuf.ByteString;
import io.smalti.hub.endpoint.HubTls;
import io.smalti.hub.endpoint.HubEndpoint;
import io.smalti.hub.records.HubKeys;
import io.smalti.hub.records.HubRecords;
import io.smalti.hub.router.HarnessLink;
import io.smalti.hub.router.HubSettings;
import io.smalti.hub.router.Router;
import io.smalti.hub.router.Session;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Location;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.vnode.VnodeClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The hub agent of one node: its router, the harness endpoint and the node relay, plus the operations
 * tools use (the REST API): the same requests a component sends, run as a tool session of this node.
 * Thread-safe.
 */
public final class Hub implements AutoCloseable {
    private final Router router;
    private final HubRecords records;
    private final HubEndpoint endpoint;
    private final HubTls tls;
    private final Session tool;
    private final ConcurrentHashMap<Long, CompletableFuture<Frame>> toolRequests = new ConcurrentHashMap<>();
    private final AtomicLong correlations = new AtomicLong();

    private Hub(Router router, HubRecords records, HubEndpoint endpoint, HubTls tls) {
        this.router = router;
        this.records = records;
        this.endpoint = endpoint;
        this.tls = tls;
        this.tool = router.tool(new HarnessLink() {
            @Override
            public boolean send(Frame frame) {
                CompletableFuture<Frame> f = toolRequests.remove(frame.getCorrelation());
                if (f != null) {
                    f.complete(frame);
                }
                return true;
            }

            @Override
            public void close() {}

            @Override
            public String describe() {
                return "REST API";
            }
        });
    }

    /**
     * Starts the hub of this node: binds the harness endpoint (mutual TLS with certificates of the cluster CA,
     * from {@code tls}) and the relay to other nodes' hubs.
     *
     * @throws IllegalStateException saying what could not start
     */
    public static Hub start(ActorSystem<?> system, VnodeClient client, ClusterMembers members, HubSettings settings,
                            HubTls tls) {
        return start(system, client, members, settings, tls, io.smalti.hub.endpoint.CredentialUse.NONE);
    }

    /** {@link #start(ActorSystem, VnodeClient, ClusterMembers, HubSettings, HubTls)} with the node's vault for components. */
    public static Hub start(ActorSystem<?> system, VnodeClient client, ClusterMembers members, HubSettings settings,
                            HubTls tls, io.smalti.hub.endpoint.CredentialUse vault) {
        HubRecords records = new HubRecords(client);
        // This incarnation of the node: sessions are noted under it, so that the clean-up after an earlier
        // incarnation (removed from the cluster after this one joined) leaves them alone.
        long incarnation = Cluster.get(system).selfMember().uniqueAddress().longUid();
        Router router = new Router(members.selfName(), incarnation, records, settings);
        router.useNodes(NodeRelay.start(system, members, router));
        system.systemActorOf(NodeLossWatcher.create(members, router), "hub-node-loss", org.apache.pekko.actor.typed.Props.empty());
        HubEndpoint endpoint = HubEndpoint.start(settings, tls, vault, router);
        return new Hub(router, records, endpoint, tls);
    }

    public Router router() {
        return router;
    }

    /** Where harnesses connect: host:port. */
    public String endpoint() {
        return endpoint.address().getHostString() + ":" + endpoint.address().getPort();
    }

    /** Listens for harnesses on another address too (same port): e.g. the node's container bridge. */
    public void listenAlso(String host) {
        endpoint.listenAlso(host);
    }

    /** The port harnesses connect to. */
    public int port() {
        return endpoint.address().getPort();
    }

    /** The certificate harnesses of this node trust for their hub: the cluster CA's (PEM). */
    public String certificatePem() {
        return tls.caPem();
    }

    /**
     * Runs a request frame as a tool of this node (its correlation is replaced); completes with the
     * answer frame (Reply, Ok, Members, Attributes... or Error). A frame that wants no answer (a cast
     * that went out) completes with Ok once routed.
     */
    public CompletionStage<Frame> request(Frame frame) {
        long c = correlations.incrementAndGet();
        CompletableFuture<Frame> answer = new CompletableFuture<>();
        toolRequests.put(c, answer);
        int timeout = frame.getTimeoutMs() > 0 ? frame.getTimeoutMs() : (int) router.settings().defaultTimeout().toMillis();
        // The hub answers every request by its timeout; the margin covers a ring write that runs longer.
        answer.orTimeout(timeout + 5_000L, TimeUnit.MILLISECONDS).whenComplete((f, e) -> toolRequests.remove(c));
        tool.onFrame(frame.toBuilder().setCorrelation(c).build());
        return answer.exceptionally(e -> Frame.newBuilder().setError(Error.newBuilder().setCode(Error.Code.EXPIRED)
                .setMessage("no answer within " + timeout + " ms")).build());
    }

    /**
     * Sends a cast as a tool: checks first that the target exists (a group with members, a connected
     * component), then sends it; completes with how many components it went to, or an Error frame. A
     * group is checked through the router's member cache, which the routing of the cast then finds
     * filled (one ring read, not two); a component against the ring, so that one gone is refused at once.
     */
    public CompletionStage<CastOutcome> cast(Frame castFrame) {
        var target = castFrame.getCast().getTarget();
        CompletionStage<Integer> count;
        try {
            if (target.hasGroup()) {
                String g = HubKeys.checkGroup(target.getGroup());
                count = router.members(g, false).thenApply(m -> m.isEmpty() ? -1
                        : target.getSelector() == io.smalti.protocol.hub.Selector.ALL ? m.size() : 1);
            } else if (target.hasComponent()) {
                count = records.location(HubKeys.checkComponent(target.getComponent())).thenApply(l -> l.isPresent() ? 1 : 0);
            } else {
                return CompletableFuture.completedFuture(CastOutcome.error(Error.Code.BAD_REQUEST, "cast has no target"));
            }
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(CastOutcome.error(Error.Code.BAD_REQUEST, e.getMessage()));
        }
        return count.thenApply(n -> {
            if (n < 0) {
                return CastOutcome.error(Error.Code.NO_MEMBERS, "group " + target.getGroup() + " has no members");
            }
            if (n == 0) {
                return CastOutcome.error(Error.Code.UNKNOWN_TARGET, "component " + target.getComponent() + " is not connected");
            }
            tool.onFrame(castFrame.toBuilder().setCorrelation(0).build());
            return new CastOutcome(n, null);
        });
    }

    /** A tool's cast: sent to {@code sent} components, or refused with {@code error}. */
    public record CastOutcome(int sent, Error error) {
        static CastOutcome error(Error.Code code, String message) {
            return new CastOutcome(0, Error.newBuilder().setCode(code).setMessage(message).build());
        }
    }

    /** Every group with its member count (groups that had members once and have none now show 0). */
    public CompletionStage<Map<String, Integer>> groups() {
        return records.groups().thenCompose(names -> {
            Map<String, CompletableFuture<Integer>> counts = new TreeMap<>();
            names.forEach(g -> counts.put(g, records.members(g).thenApply(java.util.Set::size).toCompletableFuture()));
            return CompletableFuture.allOf(counts.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
                Map<String, Integer> out = new TreeMap<>();
                counts.forEach((g, f) -> out.put(g, f.join()));
                return out;
            });
        });
    }

    /** A member of a group and the node it is connected to (empty when it is not connected now). */
    public record Member(String component, Optional<String> node) {}

    public CompletionStage<List<Member>> members(String group) {
        String g = HubKeys.checkGroup(group);
        return records.members(g).thenCompose(ids -> {
            List<CompletableFuture<Member>> out = new ArrayList<>();
            for (String id : ids) {
                out.add(records.location(id).thenApply(l -> new Member(id, l.map(Location::getNode))).toCompletableFuture());
            }
            return CompletableFuture.allOf(out.toArray(CompletableFuture[]::new))
                    .thenApply(x -> out.stream().map(CompletableFuture::join).toList());
        });
    }

    /** A target's attributes (kind "component" or "group"). */
    public CompletionStage<Map<String, ByteString>> attributes(String kind, String target) {
        return records.attributes(attributesKey(kind, target));
    }

    /**
     * @throws IllegalArgumentException for an unknown kind or a malformed target
     */
    public static String attributesKey(String kind, String target) {
        return switch (kind) {
            case "component" -> HubKeys.attributes(HubKeys.checkComponent(target));
            case "group" -> HubKeys.groupAttributes(HubKeys.checkGroup(target));
            default -> throw new IllegalArgumentException("attribute kind must be 'component' or 'group', not '" + kind + "'");
        };
    }

    @Override
    public void close() {
        endpoint.close();
        router.close();
    }
}
