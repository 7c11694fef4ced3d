package io.smalti.node;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.GCounter;
import org.apache.pekko.cluster.ddata.GCounterKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * Tells every node that a component record another node acts on has changed (a placement, an instance's
 * state, a type, a node's drain or stop mark), so instance agents and scalers react to changes made on other
 * nodes instead of reading the ring every 250 ms / 1 s to find them. A replicated counter (Pekko Distributed
 * Data): a node that writes such a record bumps it locally; the delta reaches the other nodes within
 * {@code delta-crdt.propagation-interval} (200 ms) and their subscription fires within
 * {@code notify-subscribers-interval} (100 ms, see the ring's pekko-defaults.conf), about as soon as the
 * agent's old 250 ms round. A lost nudge (a partition) only delays: the agents still re-read the ring
 * every few seconds.
 *
 * <p>Threading: {@link #bump} may be called from any thread; {@code onChange} runs on the actor's dispatcher
 * thread and must not block.
 */
final class ComponentChanges {
    /** Bumped for every announced change: the scalers follow it. */
    static final Key<GCounter> KEY = GCounterKey.create("smalti-component-changes");
    /** Bumped for placements only: the instance agents follow it (a status change is none of their business). */
    static final Key<GCounter> PLACEMENTS = GCounterKey.create("smalti-placement-changes");

    private sealed interface Command {}

    private record Bump(boolean placement) implements Command {}

    private record Subscribed(Replicator.SubscribeResponse<GCounter> response) implements Command {}

    private record Updated(Replicator.UpdateResponse<GCounter> response) implements Command {}

    private final ActorRef<Command> actor;

    private ComponentChanges(ActorRef<Command> actor) {
        this.actor = actor;
    }

    /**
     * Starts the counters' actor; {@code onChange} runs for every change the subscription reports,
     * {@code onPlacement} for every change of a placement.
     */
    static ComponentChanges start(ActorSystem<?> system, Runnable onChange, Runnable onPlacement) {
        Behavior<Command> behavior = Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, GCounter> replicator) -> {
                    SelfUniqueAddress self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
                    replicator.subscribe(KEY, Subscribed::new);
                    replicator.subscribe(PLACEMENTS, Subscribed::new);
                    return Behaviors.receive(Command.class)
                            .onMessage(Bump.class, b -> {
                                for (Key<GCounter> key : b.placement() ? java.util.List.of(KEY, PLACEMENTS) : java.util.List.of(KEY)) {
                                    replicator.askUpdate(replyTo -> new Replicator.Update<>(key, GCounter.create(),
                                            Replicator.writeLocal(), replyTo, c -> c.increment(self, 1)), Updated::new);
                                }
                                return Behaviors.same();
                            })
                            .onMessage(Subscribed.class, s -> {
                                if (s.response() instanceof Replicator.Changed<GCounter> changed) {
                                    (changed.key().equals(PLACEMENTS) ? onPlacement : onChange).run();
                                }
                                return Behaviors.same();
                            })
                            .onMessage(Updated.class, u -> Behaviors.same())
                            .build();
                }));
        return new ComponentChanges(system.systemActorOf(behavior, "component-changes", Props.empty()));
    }

    /** Tells the other nodes (and this one) that a component record changed; {@code placement}: a placement. */
    void bump(boolean placement) {
        actor.tell(new Bump(placement));
    }
}
