package io.smalti.ring.cluster;

import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.ORSet;
import org.apache.pekko.cluster.ddata.ORSetKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * The names of nodes leaving gracefully (a replicated set): the claimant gives them no vnodes, so they
 * can hand their replicas off before they leave the cluster. A child of the ring manager; tells it of
 * every change. A mark a node left in an earlier run is removed when the node starts again.
 */
final class DrainingSet {
    static final Key<ORSet<String>> KEY = ORSetKey.create("smalti-draining");

    interface Command {}

    /** Mark this node as draining; answered once stored on a majority (or not confirmed in time). */
    record Mark(java.time.Duration timeout, ActorRef<Done> replyTo) implements Command {}

    /** Told to the owner on every change. */
    record Changed(Set<String> names) {}

    private record Subscribed(Replicator.SubscribeResponse<ORSet<String>> response) implements Command {}

    private record Updated(Replicator.UpdateResponse<ORSet<String>> response, ActorRef<Done> replyTo) implements Command {}

    private DrainingSet() {}

    static Behavior<Command> create(String selfName, ActorRef<Changed> owner) {
        return Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, ORSet<String>> replicator) -> {
                    SelfUniqueAddress self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
                    replicator.subscribe(KEY, Subscribed::new);
                    boolean[] marked = {false};
                    return Behaviors.receive(Command.class)
                            .onMessage(Mark.class, m -> {
                                marked[0] = true;
                                replicator.askUpdate(replyTo -> new Replicator.Update<>(KEY, ORSet.create(),
                                                new Replicator.WriteMajority(m.timeout()), replyTo, set -> set.add(self, selfName)),
                                        response -> new Updated(response, m.replyTo()));
                                return Behaviors.same();
                            })
                            .onMessage(Subscribed.class, s -> {
                                if (s.response() instanceof Replicator.Changed<ORSet<String>> changed) {
                                    Set<String> names = Set.copyOf(changed.dataValue().getElements());
                                    if (names.contains(selfName) && !marked[0]) {
                                        // Left by this node's previous run: this run serves again.
                                        replicator.askUpdate(replyTo -> new Replicator.Update<>(KEY, ORSet.create(),
                                                        Replicator.writeLocal(), replyTo, set -> set.remove(self, selfName)),
                                                response -> new Updated(response, ctx.getSystem().ignoreRef()));
                                    }
                                    owner.tell(new Changed(names));
                                }
                                return Behaviors.same();
                            })
                            .onMessage(Updated.class, u -> {
                                u.replyTo().tell(Done.getInstance());
                                return Behaviors.same();
                            })
                            .build();
                }));
    }
}
