package io.smalti.ring;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The replicas responsible for the keys of one vnode: the first N vnodes clockwise from it that are
 * owned by distinct nodes. The first is the primary; the others are alternates. When some of those nodes
 * are down, {@link #withFallbacks(Set)} continues the walk to find stand-ins (sloppy quorum).
 *
 * <p>Immutable and thread-safe.
 */
public final class PreferenceList {

    /** Why a node is in a list. */
    public enum Role {
        PRIMARY,
        ALTERNATE,
        /** Holds writes for a down primary or alternate and hands them back when it returns. */
        FALLBACK
    }

    /**
     * One slot of a preference list.
     *
     * @param vnode the vnode whose ownership puts the node here
     * @param standsInFor for a fallback, the down node it replaces; otherwise null
     */
    public record Replica(int vnode, String node, Role role, String standsInFor) {}

    private final Ring ring;
    private final int vnode;
    private final int[] vnodes;
    private final List<Replica> replicas;

    PreferenceList(Ring ring, int vnode, int[] vnodes) {
        this.ring = ring;
        this.vnode = vnode;
        this.vnodes = vnodes;
        List<Replica> list = new ArrayList<>(vnodes.length);
        for (int i = 0; i < vnodes.length; i++) {
            list.add(new Replica(vnodes[i], ring.nodeName(ring.ownerIndex(vnodes[i])),
                    i == 0 ? Role.PRIMARY : Role.ALTERNATE, null));
        }
        this.replicas = List.copyOf(list);
    }

    private PreferenceList(Ring ring, int vnode, List<Replica> replicas) {
        this.ring = ring;
        this.vnode = vnode;
        this.vnodes = replicas.stream().mapToInt(Replica::vnode).toArray();
        this.replicas = List.copyOf(replicas);
    }

    /** The vnode whose keys this list serves. */
    public int vnode() {
        return vnode;
    }

    /** All replicas, primary first, in walk order; shorter than N only when fewer nodes exist. */
    public List<Replica> replicas() {
        return replicas;
    }

    /** The primary, or null when this is a fallback list whose primary is down. */
    public Replica primary() {
        for (Replica r : replicas) {
            if (r.role() == Role.PRIMARY) {
                return r;
            }
        }
        return null;
    }

    public List<Replica> alternates() {
        return replicas.stream().filter(r -> r.role() == Role.ALTERNATE).toList();
    }

    public List<Replica> fallbacks() {
        return replicas.stream().filter(r -> r.role() == Role.FALLBACK).toList();
    }

    /** Node names in list order. */
    public List<String> nodes() {
        return replicas.stream().map(Replica::node).toList();
    }

    int[] vnodeArray() {
        return vnodes;
    }

    /**
     * The replicas to use while {@code down} nodes are unavailable: the first N healthy distinct nodes
     * clockwise from this vnode. Healthy members of the original list keep their role; each further node
     * is a fallback standing in for a down one, paired in walk order. The list is shorter than N when
     * fewer than N healthy nodes own vnodes.
     */
    public PreferenceList withFallbacks(Set<String> down) {
        if (down.isEmpty() || replicas.stream().noneMatch(r -> down.contains(r.node()))) {
            return this;
        }
        List<String> downOriginals = new ArrayList<>();
        Set<String> chosen = new HashSet<>();
        List<Replica> out = new ArrayList<>();
        for (Replica r : replicas) {
            if (down.contains(r.node())) {
                downOriginals.add(r.node());
            }
            chosen.add(r.node());
        }
        int want = ring.replicas();
        int healthyNeeded = replicas.size() - downOriginals.size();
        int fallbackIndex = 0;
        Set<String> seen = new HashSet<>();
        for (int step = 0; step < ring.size() && out.size() < want; step++) {
            int u = (vnode + step) & (ring.size() - 1);
            String node = ring.owner(u);
            if (!seen.add(node) || down.contains(node)) {
                continue;
            }
            if (chosen.contains(node)) {
                Replica original = replicas.stream().filter(r -> r.node().equals(node)).findFirst().orElseThrow();
                out.add(original);
                healthyNeeded--;
            } else if (fallbackIndex < downOriginals.size()) {
                out.add(new Replica(u, node, Role.FALLBACK, downOriginals.get(fallbackIndex++)));
            }
            if (healthyNeeded == 0 && fallbackIndex == downOriginals.size()) {
                break;
            }
        }
        return new PreferenceList(ring, vnode, out);
    }

    @Override
    public String toString() {
        return "PreferenceList[vnode=" + vnode + ", " + replicas + "]";
    }
}
