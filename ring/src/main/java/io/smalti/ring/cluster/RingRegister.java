package io.smalti.ring.cluster;

import io.smalti.ring.Ring;
import java.util.Arrays;
import org.apache.pekko.cluster.ddata.AbstractReplicatedData;
import org.apache.pekko.cluster.ddata.Key;

/**
 * The cluster's ring as replicated data: merging two registers keeps the higher epoch, so every node
 * converges on the newest ring whatever order gossip delivers them in. Two different rings with the same
 * epoch (two claimants during a leader change) are ordered by claimant, publication time and finally
 * their encoded bytes, so merge stays commutative, associative and idempotent; the losing claimant sees
 * the winner and claims again with a higher epoch if it disagrees.
 *
 * <p>Immutable and thread-safe.
 */
public final class RingRegister extends AbstractReplicatedData<RingRegister> {
    /** The Distributed Data key under which the ring is published. */
    public static final Key<RingRegister> KEY = new RingKey("smalti-ring");

    public static final RingRegister EMPTY = new RingRegister(null);

    private final Ring ring;

    private RingRegister(Ring ring) {
        this.ring = ring;
    }

    public static RingRegister of(Ring ring) {
        return new RingRegister(ring);
    }

    /** The ring, or null when none was published yet. */
    public Ring ring() {
        return ring;
    }

    @Override
    public RingRegister mergeData(RingRegister that) {
        return compare(this.ring, that.ring) >= 0 ? this : that;
    }

    /** Total order on rings (null lowest); 0 only for equal rings. */
    static int compare(Ring a, Ring b) {
        if (a == b) {
            return 0;
        }
        if (a == null || b == null) {
            return a == null ? -1 : 1;
        }
        int c = Long.compare(a.epoch(), b.epoch());
        if (c == 0) {
            c = a.claimant().compareTo(b.claimant());
        }
        if (c == 0) {
            c = Long.compare(a.publishedAtMillis(), b.publishedAtMillis());
        }
        if (c == 0) {
            c = Arrays.compare(RingCodec.toBytes(a), RingCodec.toBytes(b));
        }
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RingRegister r && java.util.Objects.equals(ring, r.ring);
    }

    @Override
    public int hashCode() {
        return ring == null ? 0 : ring.hashCode();
    }

    @Override
    public String toString() {
        return "RingRegister[" + ring + "]";
    }

    /** Key type for {@link RingRegister} values. */
    public static final class RingKey extends Key<RingRegister> {
        private static final long serialVersionUID = 1L;

        public RingKey(String id) {
            super(id);
        }
    }
}
