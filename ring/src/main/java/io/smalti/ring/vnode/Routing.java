package io.smalti.ring.vnode;

import io.smalti.ring.PreferenceList;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.ClusterMembers;
import java.util.List;

/** Where a request for a vnode goes now: its preference list with fallbacks for unavailable nodes. Stateless. */
final class Routing {
    private Routing() {}

    /** The replicas to use for {@code vnode}: healthy preference-list nodes, fallbacks standing in for the rest. */
    static List<PreferenceList.Replica> replicas(Ring ring, int vnode, ClusterMembers members) {
        PreferenceList pref = ring.preferenceList(vnode);
        return pref.withFallbacks(members.unavailable(ring.nodes())).replicas();
    }

    /** True when {@code node} is in the vnode's preference list (a primary or alternate, not a fallback). */
    static boolean holds(Ring ring, int vnode, String node) {
        return ring.preferenceList(vnode).nodes().contains(node);
    }
}
