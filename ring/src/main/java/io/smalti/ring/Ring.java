package io.smalti.ring;

import io.smalti.ring.id.Id;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * One version (epoch) of the ring: Q vnodes, each owned by one node, and N replicas per key.
 *
 * <p>Vnode {@code v} covers the ids whose top log2(Q) bits equal {@code v}. A key's preference list
 * walks clockwise (increasing vnode index, wrapping) from its vnode and takes the first N vnodes owned
 * by distinct nodes; preference lists are computed once, when the ring is built, so lookups do not
 * allocate.
 *
 * <p>Immutable and thread-safe.
 */
public final class Ring {
    public static final int MIN_SIZE = 8;
    public static final int MAX_SIZE = 4096;
    public static final int DEFAULT_SIZE = 64;
    public static final int DEFAULT_REPLICAS = 3;

    private final long epoch;
    private final int size;
    private final int bits;
    private final int shift;
    private final int replicas;
    private final List<String> nodes;  // distinct owners, sorted
    private final int[] owners;        // vnode -> index into nodes
    private final String claimant;
    private final long publishedAtMillis;
    private final PreferenceList[] preferenceLists;

    private Ring(long epoch, int replicas, List<String> nodes, int[] owners, String claimant, long publishedAtMillis) {
        this.epoch = epoch;
        this.size = owners.length;
        this.bits = Integer.numberOfTrailingZeros(size);
        this.shift = 64 - bits;
        this.replicas = replicas;
        this.nodes = nodes;
        this.owners = owners;
        this.claimant = claimant;
        this.publishedAtMillis = publishedAtMillis;
        this.preferenceLists = new PreferenceList[size];
        int want = Math.min(replicas, nodes.size());
        int[] seen = new int[nodes.size()];
        Arrays.fill(seen, -1);
        for (int v = 0; v < size; v++) {
            int[] listVnodes = new int[want];
            int found = 0;
            for (int step = 0; found < want; step++) {
                int u = (v + step) & (size - 1);
                int o = owners[u];
                if (seen[o] != v) {
                    seen[o] = v;
                    listVnodes[found++] = u;
                }
            }
            preferenceLists[v] = new PreferenceList(this, v, listVnodes);
        }
    }

    /**
     * Builds a ring from the owner of each vnode.
     *
     * @param ownersByVnode Q node names, Q a power of two in [{@value #MIN_SIZE}, {@value #MAX_SIZE}]
     * @throws IllegalArgumentException naming the bad argument
     */
    public static Ring of(long epoch, int replicas, String[] ownersByVnode, String claimant, long publishedAtMillis) {
        Objects.requireNonNull(ownersByVnode, "owners");
        checkSize(ownersByVnode.length);
        checkReplicas(replicas, ownersByVnode.length);
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
        TreeSet<String> distinct = new TreeSet<>();
        for (int v = 0; v < ownersByVnode.length; v++) {
            String o = ownersByVnode[v];
            if (o == null || o.isEmpty()) {
                throw new IllegalArgumentException("vnode " + v + " has no owner");
            }
            distinct.add(o);
        }
        List<String> nodes = List.copyOf(distinct);
        int[] owners = new int[ownersByVnode.length];
        for (int v = 0; v < owners.length; v++) {
            owners[v] = Collections.binarySearch(nodes, ownersByVnode[v]);
        }
        return new Ring(epoch, replicas, nodes, owners, claimant == null ? "" : claimant, publishedAtMillis);
    }

    /** Checks a ring size: a power of two in [{@value #MIN_SIZE}, {@value #MAX_SIZE}]. */
    public static void checkSize(int size) {
        if (size < MIN_SIZE || size > MAX_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(
                    "ring size must be a power of two from " + MIN_SIZE + " to " + MAX_SIZE + ", got " + size);
        }
    }

    /** Checks a replica count against a ring size: 1 to min(16, size / 2). */
    public static void checkReplicas(int replicas, int size) {
        int max = Math.min(16, size / 2);
        if (replicas < 1 || replicas > max) {
            throw new IllegalArgumentException(
                    "replicas must be from 1 to " + max + " for a ring of " + size + " vnodes, got " + replicas);
        }
    }

    public long epoch() {
        return epoch;
    }

    /** Q, the number of vnodes. */
    public int size() {
        return size;
    }

    /** log2(Q): how many top bits of an id select its vnode. */
    public int bits() {
        return bits;
    }

    /** N, the length of a full preference list. */
    public int replicas() {
        return replicas;
    }

    public String claimant() {
        return claimant;
    }

    public long publishedAtMillis() {
        return publishedAtMillis;
    }

    /** The distinct owners, sorted by name. */
    public List<String> nodes() {
        return nodes;
    }

    /** The vnode an id falls in. */
    public int vnodeOf(Id id) {
        return (int) (id.high64() >>> shift);
    }

    public String owner(int vnode) {
        return nodes.get(owners[checkVnode(vnode)]);
    }

    /** The owner of every vnode, in vnode order (a copy). */
    public String[] ownersByVnode() {
        String[] out = new String[size];
        for (int v = 0; v < size; v++) {
            out[v] = nodes.get(owners[v]);
        }
        return out;
    }

    public PreferenceList preferenceList(Id id) {
        return preferenceLists[vnodeOf(id)];
    }

    public PreferenceList preferenceList(int vnode) {
        return preferenceLists[checkVnode(vnode)];
    }

    /** The vnodes each node owns, keyed by node name in name order. */
    public Map<String, List<Integer>> vnodesByNode() {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        for (String n : nodes) {
            out.put(n, new ArrayList<>());
        }
        for (int v = 0; v < size; v++) {
            out.get(nodes.get(owners[v])).add(v);
        }
        return out;
    }

    /** How many vnodes each node owns, keyed by node name in name order. */
    public Map<String, Integer> vnodeCounts() {
        int[] counts = new int[nodes.size()];
        for (int o : owners) {
            counts[o]++;
        }
        return byName(counts);
    }

    /**
     * How many preference-list slots each node holds over all Q preference lists: the share of replicas
     * it stores and of requests it serves. Keyed by node name in name order.
     */
    public Map<String, Integer> replicaLoad() {
        int[] load = new int[nodes.size()];
        for (PreferenceList p : preferenceLists) {
            for (int u : p.vnodeArray()) {
                load[owners[u]]++;
            }
        }
        return byName(load);
    }

    private Map<String, Integer> byName(int[] values) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            out.put(nodes.get(i), values[i]);
        }
        return out;
    }

    /** The vnodes whose owner differs between this ring and {@code other} (same size required). */
    public List<Integer> movedVnodes(Ring other) {
        if (other.size != size) {
            throw new IllegalArgumentException("rings differ in size: " + size + " and " + other.size);
        }
        List<Integer> moved = new ArrayList<>();
        for (int v = 0; v < size; v++) {
            if (!owner(v).equals(other.owner(v))) {
                moved.add(v);
            }
        }
        return moved;
    }

    /** True when both rings have the same size, replicas and owner for every vnode (epochs may differ). */
    public boolean sameOwnership(Ring other) {
        return other != null && other.size == size && other.replicas == replicas && other.nodes.equals(nodes)
                && Arrays.equals(other.owners, owners);
    }

    int ownerIndex(int vnode) {
        return owners[vnode];
    }

    String nodeName(int index) {
        return nodes.get(index);
    }

    private int checkVnode(int vnode) {
        if (vnode < 0 || vnode >= size) {
            throw new IllegalArgumentException("vnode must be 0.." + (size - 1) + ", got " + vnode);
        }
        return vnode;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ring r && r.epoch == epoch && r.claimant.equals(claimant)
                && r.publishedAtMillis == publishedAtMillis && sameOwnership(r);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(epoch) * 31 + Arrays.hashCode(owners);
    }

    @Override
    public String toString() {
        return "Ring[epoch=" + epoch + ", Q=" + size + ", N=" + replicas + ", counts=" + vnodeCounts() + "]";
    }
}
