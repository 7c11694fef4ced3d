package io.smalti.node.api;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.smalti.protocol.cluster.NodeInfo;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.NodeDirectory;
import io.smalti.ring.cluster.NodeNames;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.vnode.Vnodes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;

/**
 * The node agent's REST API (JSON). Field names are stable and documented in {@code docs/api.md}.
 * Handlers read thread-safe views (ring, directory, cluster state) and never block.
 */
public final class RestApi extends AllDirectives {
        private final Cluster cluster;
    private final String selfName;
    private final RingView ringView;
    private final NodeDirectory.View directory;
    private final Vnodes vnodes;
    private final VnodeRoutes vnodeRoutes;
    private final HubRoutes hubRoutes;
    private final io.smalti.component.Components components;
    private final ComponentRoutes componentRoutes;
    private final io.smalti.node.controller.PeerView peers;
    private final Instant startedAt;
    private final ApiGuard guard;
    private final SecurityRoutes securityRoutes;
    private final VaultRoutes vaultRoutes;

    /** @param maxBody the largest request body of every route but the bundle push (which takes the repository's) */
    public RestApi(ActorSystem<?> system, String selfName, RingView ringView, NodeDirectory.View directory,
                   Vnodes vnodes, io.smalti.hub.Hub hub, io.smalti.component.Components components,
                   io.smalti.node.controller.PeerView peers, Instant startedAt, long maxBody, ApiGuard guard,
                   io.smalti.node.security.NodeCredentials credentials, io.smalti.node.security.NodeHubTls hubTls) {
        this.guard = guard;
        java.util.concurrent.Executor blocking = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "api-credentials");
            t.setDaemon(true);
            return t;
        });
        this.securityRoutes = new SecurityRoutes(credentials, hubTls, credentials.settings().operatorLifetime(),
                Materializer.matFromSystem(system), blocking, guard.selfApi());
        this.vaultRoutes = new VaultRoutes(credentials, Materializer.matFromSystem(system), blocking);
        this.peers = peers;
        BodyLimit bodyLimit = new BodyLimit(maxBody);
        this.cluster = Cluster.get(system);
        this.selfName = selfName;
        this.ringView = ringView;
        this.directory = directory;
        this.vnodes = vnodes;
        this.vnodeRoutes = new VnodeRoutes(selfName, vnodes, bodyLimit, Materializer.matFromSystem(system));
        this.hubRoutes = new HubRoutes(selfName, hub, bodyLimit, Materializer.matFromSystem(system));
        this.components = components;
        this.componentRoutes = new ComponentRoutes(components.controller(), components.bundles(), this::listedNodes,
                bodyLimit, Materializer.matFromSystem(system));
        this.startedAt = startedAt;
    }

    // ---- response bodies ------------------------------------------------------------------------

    /** One node's share of the ring. */
    public record RingNode(String name, int vnodes, int replicaLoad) {}

    /**
     * A replica of a vnode moving between nodes (or recently moved: state "done").
     *
     * @param kind ownership (the vnode's primary moves), replica (another preference-list slot) or hinted
     *     (a fallback hands back what it held for a down node)
     * @param reportedBy the node running this side of the transfer: {@code to} pulls, {@code from} forwards
     *     and then deletes its copy
     * @param finishedAt when the state became done, else null
     */
    public record Transfer(String service, int vnode, String from, String to, long records, String state, String kind,
                           String startedAt, String finishedAt, String reportedBy) {}

    /** GET /v1/ring */
    public record RingBody(String answeredBy, long epoch, int size, int replicas, String claimant, String publishedAt,
                           List<String> owners, List<RingNode> nodes, List<Transfer> transfers) {}

    /** One cluster member in GET /v1/nodes. */
    public record NodeBody(String name, String address, String status, boolean reachable, boolean leader,
                           boolean self, String apiUrl, String version, int vnodes, String startedAt, String state,
                           String stateReason, MetricsBody metrics, Integer instances, String driver) {}

    /** A node's last published metrics (from /proc). */
    public record MetricsBody(String at, int cpus, double cpuBusy, long memTotalBytes, long memAvailableBytes, double load1,
                              double load5, double load15, long diskTotalBytes, long diskFreeBytes, long netRxBytesPerSec,
                              long netTxBytesPerSec) {}

    /** GET /v1/nodes */
    public record NodesBody(String answeredBy, String leader, long ringEpoch, List<NodeBody> nodes, List<DepartedBody> departed) {}

    /** A node that left the membership, as this node last saw it: offline, then failed after a timeout. */
    public record DepartedBody(String name, String state, String since, String reason) {}

    /** GET /healthz */
    public record HealthBody(String status, String node, String member, long ringEpoch, List<String> problems,
                             String startedAt) {}

    // ---- routes ----------------------------------------------------------------------------------

    public Route routes() {
        Route routes = concat(
                path(segment("v1").slash("ring"), () -> get(this::ring)),
                path(segment("v1").slash("nodes"), () -> get(this::nodes)),
                path("healthz", () -> get(this::health)),
                vnodeRoutes.routes(),
                hubRoutes.routes(),
                componentRoutes.routes(),
                securityRoutes.routes(),
                vaultRoutes.routes());
        return withJsonErrors(guard.guard(routes));
    }

    /** {@code routes} with every error answered as JSON: rejections (404, 405, ...) and exceptions (400, 500). */
    static Route withJsonErrors(Route routes) {
        AllDirectives d = new AllDirectives() {};
        return d.handleExceptions(exceptions(), () -> d.handleRejections(rejections(), () -> routes));
    }

    /** The nodes {@code GET /v1/nodes} lists: the cluster's members and those that left it (until forgotten). */
    private SortedSet<String> listedNodes() {
        SortedSet<String> names = new TreeSet<>(peers.peers().keySet());
        cluster.state().getMembers().forEach(m -> names.add(NodeNames.of(m)));
        return names;
    }

    private Route ring() {
        return ringView.current()
                .map(r -> json(StatusCodes.OK, ringBody(r)))
                .orElseGet(() -> json(StatusCodes.SERVICE_UNAVAILABLE,
                        new Json.ErrorBody(503, "node " + selfName + " has no ring yet: it has not joined a cluster")));
    }

    private RingBody ringBody(Ring r) {
        Map<String, Integer> counts = r.vnodeCounts();
        Map<String, Integer> load = r.replicaLoad();
        List<RingNode> nodes = counts.keySet().stream()
                .map(n -> new RingNode(n, counts.get(n), load.get(n))).toList();
        List<Transfer> transfers = vnodes.transfers().stream().map(reported -> {
            var t = reported.transfer();
            return new Transfer(t.getService(), t.getVnode(), t.getFrom(), t.getTo(), t.getRecords(), t.getState(),
                    t.getKind(), Instant.ofEpochMilli(t.getStartedAtMillis()).toString(),
                    t.getFinishedAtMillis() == 0 ? null : Instant.ofEpochMilli(t.getFinishedAtMillis()).toString(),
                    reported.reportedBy());
        }).toList();
        return new RingBody(selfName, r.epoch(), r.size(), r.replicas(), r.claimant(),
                Instant.ofEpochMilli(r.publishedAtMillis()).toString(), List.of(r.ownersByVnode()), nodes, transfers);
    }

    private Route nodes() {
        CurrentClusterState state = cluster.state();
        Address leader = state.getLeader();
        Set<Member> unreachable = state.getUnreachable();
        Ring ring = ringView.current().orElse(null);
        Map<String, Integer> counts = ring == null ? Map.of() : ring.vnodeCounts();
        Map<String, NodeInfo> dir = directory.entries();
        List<java.util.concurrent.CompletableFuture<NodeBody>> out = new ArrayList<>();
        String leaderName = null;
        var controller = components.controller();
        // What the component controller knows of the nodes is shown when the ring answers within a second
        // (it may not while the ring forms): the membership must always be answered at once.
        var instances = controller.instances().toCompletableFuture()
                .completeOnTimeout(null, 1, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null);
        for (Member m : state.getMembers()) {
            String name = NodeNames.of(m);
            boolean isLeader = m.address().equals(leader);
            if (isLeader) {
                leaderName = name;
            }
            NodeInfo info = dir.get(name);
            boolean reachable = !unreachable.contains(m);
            var seen = peers.peer(name).filter(p -> p.state() == io.smalti.node.controller.NodeState.OFFLINE
                    || p.state() == io.smalti.node.controller.NodeState.FAILED);
            out.add(controller.nodeStatus(name).toCompletableFuture()
                    .completeOnTimeout(java.util.Optional.empty(), 1, java.util.concurrent.TimeUnit.SECONDS)
                    .exceptionally(e -> java.util.Optional.empty())
                    .thenCombine(instances, (st, all) -> new NodeBody(name, NodeNames.hostPort(m), statusName(m.status()),
                    reachable, isLeader, m.address().equals(cluster.selfMember().address()),
                    info == null ? null : info.getApiUrl(), info == null ? null : info.getVersion(),
                    counts.getOrDefault(name, 0),
                    info == null ? null : Instant.ofEpochMilli(info.getStartedAtMillis()).toString(),
                    // Peers see an unreachable node as offline (failed after a timeout) whatever it last said.
                    seen.map(p -> p.state().name().toLowerCase(java.util.Locale.ROOT))
                            .orElse(!reachable ? "offline" : st.map(x -> x.getState()).orElse(null)),
                    seen.map(p -> p.reason()).orElse(st.map(x -> x.getReason()).filter(x -> !x.isEmpty()).orElse(null)),
                    st.map(RestApi::metrics).orElse(null),
                    all == null ? null : (int) all.stream().filter(i -> i.live() && i.placement().getNode().equals(name)).count(),
                    st.map(x -> x.getDriver()).filter(x -> !x.isEmpty()).orElse(null))));
        }
        // Nodes that left the membership are remembered, offline then failed, until forgotten.
        Set<String> memberNames = new java.util.HashSet<>();
        state.getMembers().forEach(m -> memberNames.add(NodeNames.of(m)));
        List<DepartedBody> departed = new ArrayList<>();
        peers.peers().forEach((name, p) -> {
            if (!memberNames.contains(name)) {
                departed.add(new DepartedBody(name, p.state().name().toLowerCase(java.util.Locale.ROOT), p.since().toString(),
                        p.reason()));
            }
        });
        String leaderFinal = leaderName;
        return completeWithFuture(java.util.concurrent.CompletableFuture.allOf(out.toArray(java.util.concurrent.CompletableFuture[]::new))
                .thenApply(x -> {
                    List<NodeBody> bodies = new ArrayList<>(out.stream().map(java.util.concurrent.CompletableFuture::join).toList());
                    bodies.sort(Comparator.comparing(NodeBody::name));
                    return Json.response(StatusCodes.OK, new NodesBody(selfName, leaderFinal, ring == null ? 0 : ring.epoch(), bodies, departed));
                }));
    }

    private static MetricsBody metrics(io.smalti.protocol.component.NodeStatus s) {
        return new MetricsBody(Instant.ofEpochMilli(s.getAtMillis()).toString(), s.getCpus(), s.getCpuBusy(), s.getMemTotalBytes(),
                s.getMemAvailableBytes(), s.getLoad1(), s.getLoad5(), s.getLoad15(), s.getDiskTotalBytes(), s.getDiskFreeBytes(),
                s.getNetRxBytesPerSec(), s.getNetTxBytesPerSec());
    }

    private Route health() {
        List<String> problems = new ArrayList<>();
        Member self = cluster.selfMember();
        if (!MemberStatus.up().equals(self.status())) {
            problems.add("cluster member status is " + statusName(self.status()) + ", not up");
        }
        Ring ring = ringView.current().orElse(null);
        if (ring == null) {
            problems.add("no ring applied yet");
        }
        if (!cluster.state().getUnreachable().isEmpty()) {
            List<String> names = cluster.state().getUnreachable().stream().map(NodeNames::of).sorted().toList();
            problems.add("unreachable nodes: " + String.join(", ", names));
        }
        boolean ok = self.status().equals(MemberStatus.up()) && ring != null;
        HealthBody body = new HealthBody(ok ? "ok" : "unavailable", selfName, statusName(self.status()),
                ring == null ? 0 : ring.epoch(), problems, startedAt.toString());
        return json(ok ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body);
    }

    static String statusName(MemberStatus status) {
        String s = status.toString();
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private Route json(StatusCode status, Object body) {
        return complete(Json.response(status, body));
    }

    /** Turns pekko-http's plain-text rejections (404, 405, ...) into JSON errors with the same text. */
    private static RejectionHandler rejections() {
        return RejectionHandler.defaultHandler().mapRejectionResponse(resp -> {
            if (resp.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                return resp;
            }
            String text = resp.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict strict
                    ? strict.getData().utf8String() : resp.status().reason();
            return Json.error(resp.status(), text);
        });
    }

    private static ExceptionHandler exceptions() {
        return ExceptionHandler.newBuilder()
                .match(IllegalArgumentException.class, e -> completeStatic(StatusCodes.BAD_REQUEST, e.getMessage()))
                // Json.failure maps what it knows (a body over its route's limit: 413) and words the rest as a 500.
                .match(RuntimeException.class, e -> new AllDirectives() {}.complete(Json.failure(e)))
                .build();
    }

    private static Route completeStatic(StatusCode status, String message) {
        return new AllDirectives() {}.complete(Json.error(status, message));
    }
}
