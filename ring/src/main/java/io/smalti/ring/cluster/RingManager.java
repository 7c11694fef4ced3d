package io.smalti.ring.cluster;

import io.smalti.ring.Ring;
import io.smalti.ring.claim.Claim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Keeps this node's ring in step with the cluster.
 *
 * <p>On every node it applies the highest-epoch ring published in Distributed Data, stores it in the
 * data directory and hands it to the {@link RingView}. On the cluster leader it also acts as the
 * claimant: whenever the set of Up members differs from the ring's owners it computes the next ring
 * from the last one ({@link Claim}) and publishes it with the next epoch. Members that are leaving,
 * downed or removed stop owning vnodes; members that are merely unreachable keep theirs (their
 * replicas' fallbacks cover them) until the split brain resolver downs them.
 */
public final class RingManager extends AbstractBehavior<RingManager.Command> {

    /** Messages the ring manager handles. */
    public interface Command {}

    /**
     * Before a graceful leave: mark this node as draining, so the claimant gives its vnodes to the others
     * while it can still hand them off. Answered once the mark is stored (or could not be confirmed).
     */
    public record Drain(ActorRef<Done> replyTo) implements Command {}

    private record DrainingChanged(Set<String> names) implements Command {}

    private enum Tick implements Command { INSTANCE }

    private enum Settled implements Command { INSTANCE }

    private record ClusterChanged(Object event) implements Command {}

    private record RingReceived(Replicator.SubscribeResponse<RingRegister> response) implements Command {}

    private record Published(Replicator.UpdateResponse<RingRegister> response, Ring ring) implements Command {}

    private final ReplicatorMessageAdapter<Command, RingRegister> replicator;
    private final ActorRef<DrainingSet.Command> drainingSet;
    private Set<String> draining = Set.of();
    private final Cluster cluster;
    private final String selfName;
    private final RingSettings settings;
    private final RingStore store;
    private final RingView view;

    /** The ring this node applies (highest epoch seen in the cluster); null before the first. */
    private Ring applied;
    /** The ring stored by an earlier run; the claimant's starting point when the cluster has none. */
    private Ring stored;
    private Ring publishing;
    /** What the last claim was computed from, to skip recomputing when nothing changed. */
    private Object lastClaimInput;
    private boolean warnedSize;
    private final TimerScheduler<Command> timers;
    private long membershipChangedAt = System.nanoTime();

    private RingManager(ActorContext<Command> context, TimerScheduler<Command> timers,
                        ReplicatorMessageAdapter<Command, RingRegister> replicator,
                        String selfName, RingSettings settings, RingStore store, RingView view) {
        super(context);
        context.setLoggerName(RingManager.class);
        this.replicator = replicator;
        this.timers = timers;
        this.drainingSet = context.spawn(DrainingSet.create(selfName,
                context.messageAdapter(DrainingSet.Changed.class, c -> new DrainingChanged(c.names()))), "draining");
        this.cluster = Cluster.get(context.getSystem());
        this.selfName = selfName;
        this.settings = settings;
        this.store = store;
        this.view = view;
        try {
            this.stored = store.load().orElse(null);
            if (stored != null) {
                context.getLog().info("Stored ring from an earlier run: epoch {}, {} vnodes, owners {}",
                        stored.epoch(), stored.size(), stored.vnodeCounts());
            }
        } catch (IllegalStateException e) {
            context.getLog().warn("Ignoring the stored ring: {}", e.getMessage());
        }
        replicator.subscribe(RingRegister.KEY, RingReceived::new);
        cluster.subscriptions().tell(Subscribe.create(
                context.messageAdapter(ClusterEvent.MemberEvent.class, ClusterChanged::new),
                ClusterEvent.MemberEvent.class));
        cluster.subscriptions().tell(Subscribe.create(
                context.messageAdapter(ClusterEvent.LeaderChanged.class, ClusterChanged::new),
                ClusterEvent.LeaderChanged.class));
        timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.retryInterval());
    }

    /**
     * The ring manager of this node.
     *
     * @param selfName this node's name, as carried in its {@link NodeNames} role
     */
    public static Behavior<Command> create(String selfName, RingSettings settings, RingStore store, RingView view) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, RingRegister> ring) ->
                        new RingManager(ctx, timers, ring, selfName, settings, store, view))));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RingReceived.class, this::onRingReceived)
                .onMessage(ClusterChanged.class, m -> {
                    membershipChangedAt = System.nanoTime();
                    return claimIfLeader();
                })
                .onMessageEquals(Tick.INSTANCE, this::claimIfLeader)
                .onMessageEquals(Settled.INSTANCE, this::claimIfLeader)
                .onMessage(Published.class, this::onPublished)
                .onMessage(Drain.class, d -> {
                    getContext().getLog().info("Draining: asking the claimant to move this node's vnodes to the others");
                    drainingSet.tell(new DrainingSet.Mark(settings.publishTimeout(), d.replyTo()));
                    return this;
                })
                .onMessage(DrainingChanged.class, c -> {
                    draining = c.names();
                    return claimIfLeader();
                })
                .build();
    }

    private Behavior<Command> onRingReceived(RingReceived msg) {
        if (msg.response() instanceof Replicator.Changed<RingRegister> changed) {
            Ring ring = changed.dataValue().ring();
            if (ring != null && !ring.equals(applied)) {
                apply(ring);
            }
        }
        return claimIfLeader();
    }

    private void apply(Ring ring) {
        Ring previous = applied;
        applied = ring;
        try {
            store.save(ring);
        } catch (RuntimeException e) {
            getContext().getLog().error("Cannot store ring epoch {} in {}: {}", ring.epoch(), store.file(), e.getMessage());
        }
        int moved = previous == null || previous.size() != ring.size() ? 0 : previous.movedVnodes(ring).size();
        getContext().getLog().info("Applied ring epoch {} from claimant {}: {} vnodes moved; vnodes per node {}",
                ring.epoch(), ring.claimant(), moved, ring.vnodeCounts());
        if (!warnedSize && (ring.size() != settings.size() || ring.replicas() != settings.replicas())) {
            warnedSize = true;
            getContext().getLog().warn("The cluster's ring has Q={} N={}; this node's configuration says Q={} N={}."
                            + " A ring keeps the size it was created with; the configured values are ignored.",
                    ring.size(), ring.replicas(), settings.size(), settings.replicas());
        }
        view.apply(ring);
    }

    private Behavior<Command> claimIfLeader() {
        if (publishing != null || !isLeader()) {
            return this;
        }
        List<String> members = upMemberNames();
        if (members.isEmpty()) {
            return this;
        }
        // Draining nodes give up their vnodes, unless that would leave nobody to own them.
        List<String> serving = members.stream().filter(m -> !draining.contains(m)).toList();
        if (!serving.isEmpty()) {
            members = serving;
        }
        Ring base = applied != null ? applied : stored;
        long unsettled = settings.firstRingSettle().toNanos() - (System.nanoTime() - membershipChangedAt);
        if (base == null && unsettled > 0) {
            // Members that start together are still coming up: one first ring for all of them.
            timers.startSingleTimer(Settled.INSTANCE, Settled.INSTANCE, Duration.ofNanos(unsettled));
            return this;
        }
        Object input = List.of(base == null ? -1L : base.epoch(), base == null ? 0 : base.hashCode(), members);
        if (input.equals(lastClaimInput)) {
            return this;
        }
        Claim.Result result = base == null
                ? Claim.claim(null, settings.size(), members, settings.replicas())
                : Claim.claim(base.ownersByVnode(), base.size(), members, base.replicas());
        long epoch = Math.max(applied == null ? 0 : applied.epoch(), stored == null ? 0 : stored.epoch()) + 1;
        Ring next = Ring.of(epoch, base == null ? settings.replicas() : base.replicas(), result.owners(), selfName,
                System.currentTimeMillis());
        if (applied != null && applied.sameOwnership(next)) {
            lastClaimInput = input;
            return this;
        }
        getContext().getLog().info("Claimant: members {} -> ring epoch {} moving {} vnodes (minimum {})",
                members, epoch, result.moved(), result.minimumMoves());
        publishing = next;
        replicator.askUpdate(
                replyTo -> new Replicator.Update<>(RingRegister.KEY, RingRegister.EMPTY,
                        new Replicator.WriteMajority(settings.publishTimeout()), replyTo,
                        current -> current.mergeData(RingRegister.of(next))),
                response -> new Published(response, next));
        return this;
    }

    private Behavior<Command> onPublished(Published msg) {
        publishing = null;
        if (msg.response() instanceof Replicator.UpdateSuccess) {
            getContext().getLog().debug("Ring epoch {} written to a majority", msg.ring().epoch());
        } else {
            // The local replica holds it already and gossip spreads it; log and let the next check retry.
            getContext().getLog().warn("Ring epoch {} not confirmed by a majority within {}: {}",
                    msg.ring().epoch(), settings.publishTimeout(), msg.response());
            lastClaimInput = null;
        }
        return this;
    }

    private boolean isLeader() {
        Address leader = cluster.state().getLeader();
        return leader != null && leader.equals(cluster.selfMember().address());
    }

    /** Names of the Up members, each name once (the oldest member keeps a name claimed twice). */
    private List<String> upMemberNames() {
        Map<String, Member> byName = new HashMap<>();
        for (Member m : cluster.state().getMembers()) {
            if (!Objects.equals(m.status(), MemberStatus.up())) {
                continue;
            }
            String name = NodeNames.of(m);
            Member other = byName.get(name);
            if (other == null || m.isOlderThan(other)) {
                if (other != null) {
                    getContext().getLog().error("Two members call themselves {}: {} and {}; ignoring the younger {}",
                            name, m.address(), other.address(), other.address());
                }
                byName.put(name, m);
            }
        }
        return new ArrayList<>(new TreeSet<>(byName.keySet()));
    }
}
