package io.smalti.ring.cluster;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The cluster members by node name, with their addresses and whether requests can reach them: a
 * snapshot readable from any thread, kept current by {@link #tracker}.
 */
public final class ClusterMembers {

    /** One member as seen from this node. */
    public record Node(String name, Address address, MemberStatus status, boolean reachable) {
        /** Can serve requests: up or leaving (a leaving node still holds its replicas) and reachable. */
        public boolean available() {
            return reachable && (status.equals(MemberStatus.up()) || status.equals(MemberStatus.leaving()));
        }
    }

    private final String selfName;
    private final AtomicReference<Map<String, Node>> nodes = new AtomicReference<>(Map.of());

    public ClusterMembers(String selfName) {
        this.selfName = selfName;
    }

    public String selfName() {
        return selfName;
    }

    public Optional<Node> get(String name) {
        return Optional.ofNullable(nodes.get().get(name));
    }

    /** Every member this node knows of, by name. */
    public Map<String, Node> all() {
        return Map.copyOf(nodes.get());
    }

    /** The names of the members that can serve requests now, sorted. */
    public java.util.SortedSet<String> availableNames() {
        java.util.SortedSet<String> out = new java.util.TreeSet<>();
        nodes.get().values().stream().filter(Node::available).forEach(n -> out.add(n.name()));
        return out;
    }

    /** True when the named node is a member that can serve requests now. */
    public boolean available(String name) {
        Node n = nodes.get().get(name);
        return n != null && n.available();
    }

    /** Of the given node names, those that cannot serve requests now (unknown, unreachable, joining, down...). */
    public Set<String> unavailable(Iterable<String> names) {
        Set<String> out = new HashSet<>();
        for (String n : names) {
            if (!available(n)) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * Follows the cluster's membership and reachability into {@code members}, from the events themselves
     * (the cluster's read view is updated asynchronously and can lag an event).
     */
    public static Behavior<ClusterEvent.ClusterDomainEvent> tracker(ClusterMembers members) {
        return Behaviors.setup(ctx -> {
            Cluster cluster = Cluster.get(ctx.getSystem());
            cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().<ClusterEvent.MemberEvent>narrow(), ClusterEvent.MemberEvent.class));
            cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().<ClusterEvent.ReachabilityEvent>narrow(),
                    ClusterEvent.ReachabilityEvent.class));
            Map<UniqueAddress, Member> byAddress = new HashMap<>();
            Set<UniqueAddress> unreachable = new HashSet<>();
            return Behaviors.receive(ClusterEvent.ClusterDomainEvent.class)
                    .onAnyMessage(event -> {
                        if (event instanceof ClusterEvent.MemberRemoved removed) {
                            byAddress.remove(removed.member().uniqueAddress());
                            unreachable.remove(removed.member().uniqueAddress());
                        } else if (event instanceof ClusterEvent.MemberEvent e) {
                            byAddress.put(e.member().uniqueAddress(), e.member());
                        } else if (event instanceof ClusterEvent.UnreachableMember u) {
                            unreachable.add(u.member().uniqueAddress());
                        } else if (event instanceof ClusterEvent.ReachableMember r) {
                            unreachable.remove(r.member().uniqueAddress());
                        }
                        members.refresh(byAddress.values(), unreachable);
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static boolean isGone(MemberStatus s) {
        return s.equals(MemberStatus.down()) || s.equals(MemberStatus.removed()) || s.equals(MemberStatus.exiting());
    }

    private void refresh(Iterable<Member> all, Set<UniqueAddress> unreachable) {
        Map<String, Node> next = new HashMap<>();
        for (Member m : all) {
            String name = NodeNames.of(m);
            Node prior = next.get(name);
            // A restarted node may briefly appear twice (old incarnation down, new one joining): keep the live one.
            if (prior == null || isGone(prior.status())) {
                next.put(name, new Node(name, m.address(), m.status(), !unreachable.contains(m.uniqueAddress())));
            }
        }
        nodes.set(Map.copyOf(next));
    }
}
