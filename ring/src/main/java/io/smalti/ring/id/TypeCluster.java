package io.smalti.ring.id;

import java.util.random.RandomGenerator;

/**
 * Confines the instances of one component type to a fixed fraction of the vnodes (thesis §4.7.4).
 *
 * <p>A ring of Q = 2^k vnodes reads the vnode from the top k bits of an id's prefix. A type fixes
 * {@code f} of those k bits, taken from the <em>middle</em> of them, to a value derived from the type's
 * id; its instances draw the other prefix bits at random. The type thus lands on Q / 2^f vnodes spread
 * evenly around the ring (fixing the top bits instead would pile a type onto one arc and unbalance the
 * nodes that own it).
 *
 * <p>Immutable and thread-safe.
 */
public final class TypeCluster {
    /** Default fraction exponent: a type spreads over 1/8 of the vnodes. */
    public static final int DEFAULT_FRACTION_BITS = 3;

    private final int ringBits;
    private final int fixedBits;
    private final int mask;  // within the 16-bit prefix
    private final int value; // within the 16-bit prefix

    private TypeCluster(int ringBits, int fixedBits, int mask, int value) {
        this.ringBits = ringBits;
        this.fixedBits = fixedBits;
        this.mask = mask;
        this.value = value;
    }

    /**
     * The cluster of {@code type} on a ring of {@code 2^ringBits} vnodes, covering {@code 1/2^fractionBits}
     * of them ({@code fractionBits} is capped at {@code ringBits}: at most one vnode).
     */
    public static TypeCluster of(Id type, int ringBits, int fractionBits) {
        if (type.category() != Category.TYPE) {
            throw new IllegalArgumentException("a type cluster needs a TYPE id, got " + type.category() + " " + type);
        }
        if (ringBits < 0 || ringBits > Id.PREFIX_BITS) {
            throw new IllegalArgumentException("ring bits must be 0.." + Id.PREFIX_BITS + ", got " + ringBits);
        }
        if (fractionBits < 0) {
            throw new IllegalArgumentException("fraction bits must be >= 0, got " + fractionBits);
        }
        int f = Math.min(fractionBits, ringBits);
        int offsetFromTop = (ringBits - f) / 2;
        int shift = Id.PREFIX_BITS - offsetFromTop - f;
        int mask = ((1 << f) - 1) << shift;
        // The value comes from the type's random target bits: stable for the type, uniform across types.
        int v = (int) (type.targetDigest() >>> (64 - Math.max(f, 1)));
        int value = f == 0 ? 0 : (v & ((1 << f) - 1)) << shift;
        return new TypeCluster(ringBits, f, mask, value);
    }

    /** A new id of {@code category} (normally {@link Category#INSTANCE}) inside this cluster. */
    public Id newId(Category category, RandomGenerator random) {
        int prefix = (random.nextInt(1 << Id.PREFIX_BITS) & ~mask) | value;
        return Id.of(prefix, category, 0, random.nextLong(), random.nextInt());
    }

    /** True when ids in {@code vnode} can belong to this cluster. */
    public boolean containsVnode(int vnode) {
        int prefixOfVnode = vnode << (Id.PREFIX_BITS - ringBits);
        return (prefixOfVnode & mask) == value;
    }

    public boolean contains(Id id) {
        return (id.prefix() & mask) == value;
    }

    /** How many vnodes of the ring this cluster covers. */
    public int vnodeCount() {
        return 1 << (ringBits - fixedBits);
    }

    @Override
    public String toString() {
        return String.format("TypeCluster[ring=2^%d, fixed=%d bits, mask=%04x, value=%04x]", ringBits, fixedBits, mask, value);
    }
}
