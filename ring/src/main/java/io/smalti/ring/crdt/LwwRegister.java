package io.smalti.ring.crdt;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.crdt.LwwRegisterState;
import java.util.Comparator;
import java.util.Objects;

/**
 * A last-writer-wins register holding a value or a tombstone (deleted). {@link #merge} keeps the greater
 * of two registers in the total order: timestamp (as a signed long), then node name
 * ({@link String#compareTo}), then deleted (a tombstone beats a value), then value bytes (unsigned
 * lexicographic). Only the timestamp and node should ever decide in practice, since a node stamps each of
 * its writes with a fresh {@link Hlc} timestamp; the later keys keep merge commutative, associative and
 * idempotent even when that assumption is broken.
 *
 * <p>The wire form is {@code smalti.crdt.v1.LwwRegisterState}. Immutable and thread-safe.
 */
public final class LwwRegister {
    private static final Comparator<LwwRegister> ORDER = Comparator.comparingLong(LwwRegister::timestamp)
            .thenComparing(LwwRegister::node)
            .thenComparing(LwwRegister::deleted)
            .thenComparing(LwwRegister::value, Bytes.ORDER);

    private final ByteString value;
    private final long timestamp;
    private final String node;
    private final boolean deleted;

    private LwwRegister(ByteString value, long timestamp, String node, boolean deleted) {
        Objects.requireNonNull(node, "node");
        if (node.isEmpty()) {
            throw new IllegalArgumentException("register node name must not be empty");
        }
        this.value = value;
        this.timestamp = timestamp;
        this.node = node;
        this.deleted = deleted;
    }

    /** A value written by {@code node} at {@code timestamp}. */
    public static LwwRegister of(ByteString value, long timestamp, String node) {
        return new LwwRegister(Objects.requireNonNull(value, "value"), timestamp, node, false);
    }

    /** A delete by {@code node} at {@code timestamp}. */
    public static LwwRegister tombstone(long timestamp, String node) {
        return new LwwRegister(ByteString.EMPTY, timestamp, node, true);
    }

    /** The value; empty for a tombstone. */
    public ByteString value() {
        return value;
    }

    public boolean deleted() {
        return deleted;
    }

    public long timestamp() {
        return timestamp;
    }

    public String node() {
        return node;
    }

    /** The winner of this and {@code other}. */
    public LwwRegister merge(LwwRegister other) {
        return ORDER.compare(this, other) >= 0 ? this : other;
    }

    /** The canonical encoding: equal registers give identical bytes. */
    public ByteString toBytes() {
        return LwwRegisterState.newBuilder()
                .setValue(value)
                .setTimestamp(timestamp)
                .setNode(node)
                .setDeleted(deleted)
                .build()
                .toByteString();
    }

    /**
     * Decodes {@link #toBytes()}.
     *
     * @throws IllegalArgumentException saying what is wrong when the bytes are not a valid register
     */
    public static LwwRegister fromBytes(ByteString bytes) {
        LwwRegisterState s;
        try {
            s = LwwRegisterState.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(
                    "LWW register bytes are not a valid LwwRegisterState message: " + e.getMessage(), e);
        }
        if (s.getNode().isEmpty()) {
            throw new IllegalArgumentException("LWW register state names no node");
        }
        if (s.getDeleted() && !s.getValue().isEmpty()) {
            throw new IllegalArgumentException(
                    "LWW register state is a tombstone but carries a " + s.getValue().size() + "-byte value");
        }
        return new LwwRegister(s.getValue(), s.getTimestamp(), s.getNode(), s.getDeleted());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LwwRegister r
                && timestamp == r.timestamp
                && deleted == r.deleted
                && node.equals(r.node)
                && value.equals(r.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(value, timestamp, node, deleted);
    }

    @Override
    public String toString() {
        return "LwwRegister{" + (deleted ? "deleted" : Bytes.show(value)) + " at " + Hlc.format(timestamp)
                + " by " + node + "}";
    }
}
