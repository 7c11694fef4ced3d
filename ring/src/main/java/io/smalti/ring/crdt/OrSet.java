package io.smalti.ring.crdt;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.crdt.CausalContext;
import io.smalti.protocol.crdt.OrSetEntry;
import io.smalti.protocol.crdt.OrSetState;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An add-wins observed-remove set of byte strings (the causal AWORSet of Almeida, Shoker and Baquero,
 * "Delta State Replicated Data Types", 2018). Each add tags the element with a fresh dot (node, counter);
 * an element is present while it keeps a dot. The causal context records every dot the replica has seen,
 * so a remove simply drops the element's dots: on merge, a dot missing on one side but seen there was
 * removed, while a dot the other side never saw is a concurrent add and survives (add wins). Removes leave
 * no tombstones; the context is compacted into a version vector (one entry per node that ever added) plus
 * a cloud of non-contiguous dots, so the state grows with live elements and nodes, not with operations.
 *
 * <p>Dots must be unique: every replica must add under its own node name, and no two replicas may share
 * one. {@link #merge} is commutative, associative and idempotent. The wire form is
 * {@code smalti.crdt.v1.OrSetState}; equal sets (same elements, dots and context) encode to identical bytes.
 *
 * <p>Immutable and thread-safe: every operation returns a new set.
 */
public final class OrSet {
    private static final OrSet EMPTY = new OrSet(new TreeMap<>(Bytes.ORDER), new TreeMap<>(), new TreeSet<>());

    // Never mutated once the set is constructed, so sets share them freely.
    private final TreeMap<ByteString, TreeSet<Dot>> entries;
    private final TreeMap<String, Long> versionVector;
    private final TreeSet<Dot> dotCloud;

    private OrSet(TreeMap<ByteString, TreeSet<Dot>> entries, TreeMap<String, Long> versionVector,
            TreeSet<Dot> dotCloud) {
        this.entries = entries;
        this.versionVector = versionVector;
        this.dotCloud = dotCloud;
    }

    public static OrSet empty() {
        return EMPTY;
    }

    /**
     * Adds {@code element} under a new dot of {@code node}, which must be this replica's own name. The dots
     * of the element this replica had seen are replaced, so the element carries at most one dot per node.
     */
    public OrSet add(String node, ByteString element) {
        Objects.requireNonNull(element, "element");
        Dot dot = new Dot(requireNode(node), maxCounter(node) + 1);
        TreeMap<ByteString, TreeSet<Dot>> e = new TreeMap<>(entries);
        e.put(element, new TreeSet<>(Set.of(dot)));
        TreeMap<String, Long> vv = new TreeMap<>(versionVector);
        TreeSet<Dot> cloud = new TreeSet<>(dotCloud);
        cloud.add(dot);
        compact(vv, cloud);
        return new OrSet(e, vv, cloud);
    }

    /** Removes the adds of {@code element} this replica has seen; concurrent adds elsewhere survive a merge. */
    public OrSet remove(ByteString element) {
        if (!entries.containsKey(element)) {
            return this;
        }
        TreeMap<ByteString, TreeSet<Dot>> e = new TreeMap<>(entries);
        e.remove(element);
        return new OrSet(e, versionVector, dotCloud);
    }

    /** The join: keeps a dot present on both sides, or on one side and never seen by the other. */
    public OrSet merge(OrSet other) {
        TreeMap<ByteString, TreeSet<Dot>> e = new TreeMap<>(Bytes.ORDER);
        TreeSet<ByteString> keys = new TreeSet<>(Bytes.ORDER);
        keys.addAll(entries.keySet());
        keys.addAll(other.entries.keySet());
        for (ByteString key : keys) {
            TreeSet<Dot> mine = entries.getOrDefault(key, new TreeSet<>());
            TreeSet<Dot> theirs = other.entries.getOrDefault(key, new TreeSet<>());
            TreeSet<Dot> kept = new TreeSet<>();
            for (Dot d : mine) {
                if (theirs.contains(d) || !other.observed(d)) {
                    kept.add(d);
                }
            }
            for (Dot d : theirs) {
                if (!observed(d)) {
                    kept.add(d);
                }
            }
            if (!kept.isEmpty()) {
                e.put(key, kept);
            }
        }
        TreeMap<String, Long> vv = new TreeMap<>(versionVector);
        other.versionVector.forEach((node, counter) -> vv.merge(node, counter, Math::max));
        TreeSet<Dot> cloud = new TreeSet<>(dotCloud);
        cloud.addAll(other.dotCloud);
        compact(vv, cloud);
        return new OrSet(e, vv, cloud);
    }

    /** The present elements, in unsigned byte order; unmodifiable. */
    public Set<ByteString> elements() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    public boolean contains(ByteString element) {
        return entries.containsKey(element);
    }

    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The canonical encoding: equal sets give identical bytes. */
    public ByteString toBytes() {
        OrSetState.Builder b = OrSetState.newBuilder();
        entries.forEach((element, dots) -> {
            OrSetEntry.Builder entry = OrSetEntry.newBuilder().setElement(element);
            dots.forEach(d -> entry.addDots(d.toProto()));
            b.addEntries(entry);
        });
        CausalContext.Builder context = CausalContext.newBuilder();
        versionVector.forEach((node, counter) -> context.addVersionVector(new Dot(node, counter).toProto()));
        dotCloud.forEach(d -> context.addDotCloud(d.toProto()));
        return b.setContext(context).build().toByteString();
    }

    /**
     * Decodes {@link #toBytes()}. Entries and dots may come in any order; the result is compacted.
     *
     * @throws IllegalArgumentException saying what is wrong when the bytes are not a valid set
     */
    public static OrSet fromBytes(ByteString bytes) {
        OrSetState s;
        try {
            s = OrSetState.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("OR-set bytes are not a valid OrSetState message: " + e.getMessage(), e);
        }
        TreeMap<String, Long> vv = new TreeMap<>();
        for (io.smalti.protocol.crdt.Dot p : s.getContext().getVersionVectorList()) {
            Dot d = Dot.fromProto(p, "version vector");
            if (vv.put(d.node(), d.counter()) != null) {
                throw new IllegalArgumentException("OR-set version vector lists node " + d.node() + " twice");
            }
        }
        TreeSet<Dot> cloud = new TreeSet<>();
        for (io.smalti.protocol.crdt.Dot p : s.getContext().getDotCloudList()) {
            cloud.add(Dot.fromProto(p, "dot cloud"));
        }
        compact(vv, cloud);
        OrSet context = new OrSet(new TreeMap<>(Bytes.ORDER), vv, cloud);
        TreeMap<ByteString, TreeSet<Dot>> entries = new TreeMap<>(Bytes.ORDER);
        Map<Dot, ByteString> owners = new HashMap<>();
        for (OrSetEntry entry : s.getEntriesList()) {
            ByteString element = entry.getElement();
            if (entry.getDotsCount() == 0) {
                throw new IllegalArgumentException("OR-set element " + Bytes.show(element) + " has no dots");
            }
            TreeSet<Dot> dots = new TreeSet<>();
            for (io.smalti.protocol.crdt.Dot p : entry.getDotsList()) {
                Dot d = Dot.fromProto(p, "element " + Bytes.show(element));
                if (!context.observed(d)) {
                    throw new IllegalArgumentException("OR-set element " + Bytes.show(element) + " has dot " + d
                            + " outside the causal context");
                }
                ByteString owner = owners.putIfAbsent(d, element);
                if (owner != null && !owner.equals(element)) {
                    throw new IllegalArgumentException("OR-set dot " + d + " tags both " + Bytes.show(owner)
                            + " and " + Bytes.show(element));
                }
                dots.add(d);
            }
            if (entries.put(element, dots) != null) {
                throw new IllegalArgumentException("OR-set lists element " + Bytes.show(element) + " twice");
            }
        }
        return new OrSet(entries, vv, cloud);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OrSet s
                && entries.equals(s.entries)
                && versionVector.equals(s.versionVector)
                && dotCloud.equals(s.dotCloud);
    }

    @Override
    public int hashCode() {
        return Objects.hash(entries, versionVector, dotCloud);
    }

    /** Elements with their dots, then the context, e.g. {@code OrSet{"a"[A:2], "b"[B:1] | A:2 B:1}}. */
    @Override
    public String toString() {
        StringJoiner elements = new StringJoiner(", ");
        entries.forEach((element, dots) -> elements.add(Bytes.show(element) + dots));
        StringJoiner context = new StringJoiner(" ");
        versionVector.forEach((node, counter) -> context.add(node + ":" + counter));
        if (!dotCloud.isEmpty()) {
            context.add("cloud" + dotCloud);
        }
        return "OrSet{" + elements + " | " + context + "}";
    }

    private boolean observed(Dot d) {
        return d.counter() <= versionVector.getOrDefault(d.node(), 0L) || dotCloud.contains(d);
    }

    private long maxCounter(String node) {
        long max = versionVector.getOrDefault(node, 0L);
        Dot last = dotCloud.floor(new Dot(node, Long.MAX_VALUE));
        return last != null && last.node().equals(node) ? Math.max(max, last.counter()) : max;
    }

    // Cloud dots are visited in (node, counter) order, so a contiguous run folds into the vector in one pass.
    private static void compact(TreeMap<String, Long> vv, TreeSet<Dot> cloud) {
        for (Iterator<Dot> it = cloud.iterator(); it.hasNext(); ) {
            Dot d = it.next();
            long known = vv.getOrDefault(d.node(), 0L);
            if (d.counter() <= known + 1) {
                vv.put(d.node(), Math.max(known, d.counter()));
                it.remove();
            }
        }
    }

    private static String requireNode(String node) {
        Objects.requireNonNull(node, "node");
        if (node.isEmpty()) {
            throw new IllegalArgumentException("OR-set node name must not be empty");
        }
        return node;
    }

    /** The {@code counter}-th add by {@code node}; counters start at 1. */
    private record Dot(String node, long counter) implements Comparable<Dot> {
        static Dot fromProto(io.smalti.protocol.crdt.Dot p, String where) {
            if (p.getNode().isEmpty()) {
                throw new IllegalArgumentException("OR-set " + where + " has a dot with no node");
            }
            if (p.getCounter() <= 0) {
                throw new IllegalArgumentException("OR-set " + where + " has dot " + p.getNode() + ":"
                        + Long.toUnsignedString(p.getCounter()) + "; counters must be in [1, 2^63)");
            }
            return new Dot(p.getNode(), p.getCounter());
        }

        io.smalti.protocol.crdt.Dot toProto() {
            return io.smalti.protocol.crdt.Dot.newBuilder().setNode(node).setCounter(counter).build();
        }

        @Override
        public int compareTo(Dot o) {
            int c = node.compareTo(o.node);
            return c != 0 ? c : Long.compare(counter, o.counter);
        }

        @Override
        public String toString() {
            return node + ":" + counter;
        }
    }
}
