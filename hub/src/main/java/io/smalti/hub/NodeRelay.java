package io.smalti.hub;

import io.smalti.hub.router.NodeLink;
import io.smalti.hub.router.Router;
import io.smalti.protocol.hub.HubRelay;
import io.smalti.ring.cluster.ClusterMembers;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Router-to-router messages between nodes over the cluster transport (Pekko Artery): every node runs an
 * actor at {@value #PATH} that hands each {@link HubRelay} to its router. One hop per message; Artery
 * keeps the order between two nodes. Thread-safe.
 */
final class NodeRelay implements NodeLink {
    static final String PATH = "/system/hub-relay";

    private final ExtendedActorSystem system;
    private final ClusterMembers members;
    private final ConcurrentHashMap<Address, ActorRef> relays = new ConcurrentHashMap<>();

    private NodeRelay(ExtendedActorSystem system, ClusterMembers members) {
        this.system = system;
        this.members = members;
    }

    static NodeRelay start(ActorSystem<?> system, ClusterMembers members, Router router) {
        Behavior<HubRelay> behavior = Behaviors.receiveMessage(m -> {
            router.onRelay(m);
            return Behaviors.same();
        });
        system.systemActorOf(behavior, "hub-relay", Props.empty());
        return new NodeRelay((ExtendedActorSystem) Adapter.toClassic(system), members);
    }

    @Override
    public boolean send(String node, HubRelay message) {
        return members.get(node).filter(ClusterMembers.Node::available).map(n -> {
            relays.computeIfAbsent(n.address(), a -> system.provider().resolveActorRef(a.toString() + PATH))
                    .tell(message, ActorRef.noSender());
            return true;
        }).orElse(false);
    }
}
