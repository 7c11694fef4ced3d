package io.smalti.ring.id;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.random.RandomGenerator;

/**
 * A 160-bit identifier laid out as in the thesis §4.7.4, most significant bits first:
 * <pre>
 *   prefix (16) | category (16) | sub-element (32) | target (96)
 * </pre>
 * The prefix places the id on the ring: its top log2(Q) bits are the vnode. The sub-element field
 * addresses an object or attribute of the target and is 0 for the target itself. The target bits are
 * random. The text form is 40 lowercase hex digits, in the same bit order, so ids sort as they lie on
 * the ring.
 *
 * <p>Immutable and thread-safe.
 */
public final class Id implements Comparable<Id> {
    public static final int BITS = 160;
    public static final int PREFIX_BITS = 16;
    public static final int TEXT_LENGTH = 40;

    // hi: prefix(16) | category(16) | sub-element(32); mid and lo: the 96 target bits.
    private final long hi;
    private final long mid;
    private final int lo;

    private Id(long hi, long mid, int lo) {
        this.hi = hi;
        this.mid = mid;
        this.lo = lo;
    }

    /** Builds an id from its fields; {@code target} supplies the 96 target bits (high 64 then low 32). */
    public static Id of(int prefix, Category category, int subElement, long targetHigh, int targetLow) {
        if ((prefix & ~0xffff) != 0) {
            throw new IllegalArgumentException("prefix must fit in 16 bits, got " + prefix);
        }
        long hi = ((long) prefix << 48) | ((long) category.code() << 32) | (subElement & 0xffffffffL);
        return new Id(hi, targetHigh, targetLow);
    }

    /** A fresh id of the given category at a random place on the ring. */
    public static Id random(Category category, RandomGenerator random) {
        return of(random.nextInt(1 << PREFIX_BITS), category, 0, random.nextLong(), random.nextInt());
    }

    /**
     * The id of a record named by an arbitrary key: SHA-1 of the key, with the category field set, so
     * the same name always lands on the same vnode and names spread evenly.
     */
    public static Id ofName(Category category, String name) {
        byte[] d = sha1(name.getBytes(StandardCharsets.UTF_8));
        long hi = readLong(d, 0);
        long mid = readLong(d, 8);
        int lo = (int) (readLong(d, 12) & 0xffffffffL);
        int prefix = (int) (hi >>> 48);
        return of(prefix, category, 0, mid, lo);
    }

    /** This id with another sub-element (an object or attribute of the same target). */
    public Id withSubElement(int subElement) {
        return new Id((hi & 0xffffffff00000000L) | (subElement & 0xffffffffL), mid, lo);
    }

    /** The 16-bit ring prefix. */
    public int prefix() {
        return (int) (hi >>> 48);
    }

    /** The vnode this id falls in on a ring of {@code 2^ringBits} vnodes. */
    public int vnode(int ringBits) {
        return (int) (hi >>> (64 - ringBits));
    }

    /** A stable 64-bit digest of the random target bits (for deriving per-target values). */
    long targetDigest() {
        return (mid ^ ((long) lo * 0x9E3779B97F4A7C15L)) * 0xBF58476D1CE4E5B9L;
    }

    /** The most significant 64 bits; {@code Ring} shifts them to find the vnode without a call. */
    public long high64() {
        return hi;
    }

    public Category category() {
        return Category.ofCode(categoryCode());
    }

    private int categoryCode() {
        return (int) ((hi >>> 32) & 0xffff);
    }

    public int subElement() {
        return (int) hi;
    }

    /** True when this id names a target itself rather than one of its objects or attributes. */
    public boolean isTarget() {
        return subElement() == 0;
    }

    /** The id of the target this id belongs to (sub-element 0). */
    public Id target() {
        return isTarget() ? this : withSubElement(0);
    }

    /**
     * Parses the 40-hex-digit text form (either case).
     *
     * @throws IllegalArgumentException saying what is wrong: length, the first bad character and its
     *     position, or an unknown category
     */
    public static Id parse(CharSequence text) {
        if (text == null) {
            throw new IllegalArgumentException("id is missing");
        }
        if (text.length() != TEXT_LENGTH) {
            throw new IllegalArgumentException(String.format(
                    "id must be %d hex digits, got %d characters: '%s'", TEXT_LENGTH, text.length(), abbreviate(text)));
        }
        long hi = hex(text, 0, 16);
        long mid = hex(text, 16, 32);
        int lo = (int) hex(text, 32, 40);
        Id id = new Id(hi, mid, lo);
        Category.ofCode(id.categoryCode()); // validates
        return id;
    }

    private static long hex(CharSequence text, int from, int to) {
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            int d = Character.digit(c, 16);
            if (d < 0 || c > 'f') {
                throw new IllegalArgumentException(String.format(
                        "id has a non-hex character '%s' at position %d: '%s'", printable(c), i, text));
            }
            v = (v << 4) | d;
        }
        return v;
    }

    private static String printable(char c) {
        return Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    private static String abbreviate(CharSequence text) {
        return text.length() <= 64 ? text.toString() : text.subSequence(0, 61) + "...";
    }

    @Override
    public String toString() {
        char[] out = new char[TEXT_LENGTH];
        writeHex(out, 0, hi, 16);
        writeHex(out, 16, mid, 16);
        writeHex(out, 32, lo & 0xffffffffL, 8);
        return new String(out);
    }

    private static void writeHex(char[] out, int at, long v, int digits) {
        for (int i = digits - 1; i >= 0; i--) {
            out[at + i] = Character.forDigit((int) (v & 0xf), 16);
            v >>>= 4;
        }
    }

    /** The 20 bytes of this id, big-endian. */
    public byte[] toBytes() {
        byte[] b = new byte[20];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (mid >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            b[16 + i] = (byte) (lo >>> (24 - 8 * i));
        }
        return b;
    }

    /** Reads the 20-byte big-endian form written by {@link #toBytes()}. */
    public static Id fromBytes(byte[] b) {
        if (b == null || b.length != 20) {
            throw new IllegalArgumentException("id must be 20 bytes, got " + (b == null ? "none" : b.length));
        }
        Id id = new Id(readLong(b, 0), readLong(b, 8), (int) (readLong(b, 12) & 0xffffffffL));
        Category.ofCode(id.categoryCode());
        return id;
    }

    private static long readLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-1", e);
        }
    }

    @Override
    public int compareTo(Id o) {
        int c = Long.compareUnsigned(hi, o.hi);
        if (c == 0) {
            c = Long.compareUnsigned(mid, o.mid);
        }
        return c != 0 ? c : Integer.compareUnsigned(lo, o.lo);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Id other && hi == other.hi && mid == other.mid && lo == other.lo;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hi) * 31 * 31 + Long.hashCode(mid) * 31 + lo;
    }
}
