package io.smalti.ring.vnode;

import io.smalti.protocol.cluster.Transfer;
import io.smalti.protocol.cluster.TransferList;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;

/**
 * The replicated vnode framework on one node: its host (replicas and routing), handoff manager,
 * anti-entropy, and the client other agents use. Thread-safe.
 */
public final class Vnodes {

    /** One replica on this node, for listings. */
    public record ReplicaInfo(String service, int vnode, long records, String digest, String role, boolean receiving) {}

    /** Anti-entropy counters since start. */
    public record AntiEntropyCounts(long exchanges, long repairedBuckets, long recordsIn, long recordsOut) {}

    private final VnodeClient client;
    private final VnodeTransport transport;
    private final HandoffState handoff;
    private final AntiEntropy.Stats stats;
    private final ActorRef host;
    private final RingView ringView;
    private final VnodeSettings settings;
    private final CompletionStage<Done> journal;

    private Vnodes(VnodeClient client, VnodeTransport transport, HandoffState handoff, AntiEntropy.Stats stats,
                   ActorRef host, RingView ringView, VnodeSettings settings, CompletionStage<Done> journal) {
        this.client = client;
        this.transport = transport;
        this.handoff = handoff;
        this.stats = stats;
        this.host = host;
        this.ringView = ringView;
        this.settings = settings;
        this.journal = journal;
    }

    /**
     * Starts the framework; call it from the actor system's guardian, before the ring manager starts, so
     * no ring is missed. The journal must be configured ({@link JournalConfig}).
     *
     * @param stored the ring this node applied in its previous run, if any: it tells which replicas the
     *     node held when it stopped
     */
    public static Vnodes start(ActorContext<?> ctx, ClusterMembers members, RingView ringView, Optional<Ring> stored,
                               List<VnodeService> services, VnodeSettings settings) {
        Map<String, VnodeService> byName = new LinkedHashMap<>();
        for (VnodeService s : services) {
            if (!s.name().matches("[A-Za-z0-9][A-Za-z0-9-]*") || byName.put(s.name(), s) != null) {
                throw new IllegalArgumentException("service names must be unique letters, digits and '-': " + s.name());
            }
        }
        List<String> names = List.copyOf(byName.keySet());
        ctx.spawn(ClusterMembers.tracker(members), "cluster-members");
        VnodeTransport transport = new VnodeTransport(Adapter.toClassic(ctx.getSystem()), members);
        HandoffState handoff = new HandoffState();
        CompletableFuture<Done> journal = transport.adopt(SchemaUtils.createIfNotExists(ctx.getSystem()));
        ActorRef manager = Adapter.actorOf(ctx, HandoffManager.props(names, transport, settings, handoff, stored), "handoff");
        ActorRef host = Adapter.actorOf(ctx,
                VnodeHost.props(byName, transport, settings, ringView, handoff, manager, journal), VnodeTransport.HOST_NAME);
        manager.tell(new HandoffManager.UseHost(host), ActorRef.noSender());
        AntiEntropy.Stats stats = new AntiEntropy.Stats();
        Adapter.actorOf(ctx, AntiEntropy.props(names, transport, settings, ringView, handoff, stats, host), "anti-entropy");
        ringView.addListener((previous, current) -> manager.tell(new HandoffManager.RingApplied(current), ActorRef.noSender()));
        ringView.current().ifPresent(r -> manager.tell(new HandoffManager.RingApplied(r), ActorRef.noSender()));
        VnodeClient client = new VnodeClient(transport, ringView, Map.copyOf(byName), settings);
        return new Vnodes(client, transport, handoff, stats, host, ringView, settings, journal);
    }

    /** Completes once the journal's tables exist; fails with the reason the journal cannot be used. */
    public CompletionStage<Done> journalReady() {
        return journal;
    }

    public VnodeClient client() {
        return client;
    }

    /** A transfer as the node running it reports it. */
    public record ReportedTransfer(String reportedBy, Transfer transfer) {}

    /** Every node's transfers (this node's as of now), sorted by service and vnode; only current members. */
    public List<ReportedTransfer> transfers() {
        List<ReportedTransfer> out = new ArrayList<>();
        handoff.local.get().forEach(t -> out.add(new ReportedTransfer(transport.selfName(), t)));
        for (Map.Entry<String, TransferList> e : handoff.cluster.get().entrySet()) {
            if (!e.getKey().equals(transport.selfName()) && transport.members().get(e.getKey()).isPresent()) {
                e.getValue().getTransfersList().forEach(t -> out.add(new ReportedTransfer(e.getKey(), t)));
            }
        }
        out.sort(Comparator.comparing((ReportedTransfer r) -> r.transfer().getService())
                .thenComparingInt(r -> r.transfer().getVnode()).thenComparing(r -> r.transfer().getFrom()));
        return out;
    }

    /**
     * Completes with true once the current ring gives this node no vnodes and it has handed off every
     * replica it held (at once if it is the ring's only node: there is nobody to hand off to); with false
     * if that has not happened within {@code timeout}. For graceful leaves.
     */
    public CompletionStage<Boolean> awaitHandedOff(Duration timeout) {
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        var scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "smalti-handoff-wait");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            Ring ring = ringView.current().orElse(null);
            boolean owns = ring == null || ring.nodes().contains(transport.selfName());
            boolean alone = ring != null && ring.nodes().equals(List.of(transport.selfName()));
            // Only a count computed for this ring says anything: the one before still lists the old ring's work.
            boolean counted = ring != null && handoff.handingOffEpoch.get() >= ring.epoch();
            if (alone || !owns && counted && handoff.handingOff.get() == 0 && handoff.receiving.isEmpty()) {
                done.complete(true);
            } else if (System.nanoTime() > deadline) {
                done.complete(false);
            }
        }, 200, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
        return done.whenComplete((r, e) -> scheduler.shutdownNow());
    }

    public AntiEntropyCounts antiEntropy() {
        return new AntiEntropyCounts(stats.exchanges.get(), stats.repairedBuckets.get(), stats.recordsIn.get(),
                stats.recordsOut.get());
    }

    /** The replicas this node holds, with their sizes and digests. */
    public CompletionStage<List<ReplicaInfo>> replicas() {
        Duration timeout = settings.requestTimeout();
        Ring ring = ringView.current().orElse(null);
        return transport.adopt(Patterns.ask(host, new VnodeHost.ListReplicas(), timeout)).thenCompose(set -> {
            List<CompletableFuture<ReplicaInfo>> infos = new ArrayList<>();
            for (ReplicaKey key : ((VnodeHost.ReplicaSet) set).keys()) {
                infos.add(ReplicaPeer.local(transport, host, key, ring == null ? 0 : ring.epoch(), timeout).digest()
                        .thenApply(d -> new ReplicaInfo(key.service(), key.vnode(), d.records(),
                                String.format("%016x", d.summary()), role(ring, key), handoff.isReceiving(key)))
                        .toCompletableFuture());
            }
            return CompletableFuture.allOf(infos.toArray(CompletableFuture[]::new)).thenApply(x -> infos.stream()
                    .map(CompletableFuture::join)
                    .sorted(Comparator.comparing(ReplicaInfo::service).thenComparingInt(ReplicaInfo::vnode))
                    .toList());
        });
    }

    private String role(Ring ring, ReplicaKey key) {
        if (ring == null || key.vnode() >= ring.size()) {
            return "unknown";
        }
        List<String> nodes = ring.preferenceList(key.vnode()).nodes();
        int i = nodes.indexOf(transport.selfName());
        return i == 0 ? "primary" : i > 0 ? "alternate" : "handing-off";
    }
}
