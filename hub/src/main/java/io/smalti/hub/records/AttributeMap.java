package io.smalti.hub.records;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.crdt.LwwRegisterState;
import io.smalti.protocol.hub.AttributeEntry;
import io.smalti.protocol.hub.AttributeMapState;
import io.smalti.ring.crdt.LwwRegister;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The attributes of one target as a CRDT: one last-writer-wins register per name, removals kept as
 * tombstones so a stale replica cannot bring a value back. Immutable and thread-safe.
 */
public final class AttributeMap {
    private static final AttributeMap EMPTY = new AttributeMap(new TreeMap<>());

    private final TreeMap<String, LwwRegister> entries;

    private AttributeMap(TreeMap<String, LwwRegister> entries) {
        this.entries = entries;
    }

    public static AttributeMap empty() {
        return EMPTY;
    }

    /** Sets (value != null) or removes (value == null) one attribute, stamped {@code timestamp} by {@code node}. */
    public AttributeMap with(String name, ByteString value, long timestamp, String node) {
        TreeMap<String, LwwRegister> e = new TreeMap<>(entries);
        LwwRegister reg = value == null ? LwwRegister.tombstone(timestamp, node) : LwwRegister.of(value, timestamp, node);
        e.merge(name, reg, LwwRegister::merge);
        return new AttributeMap(e);
    }

    public AttributeMap merge(AttributeMap other) {
        TreeMap<String, LwwRegister> e = new TreeMap<>(entries);
        other.entries.forEach((k, v) -> e.merge(k, v, LwwRegister::merge));
        return new AttributeMap(e);
    }

    /** The highest timestamp of any entry (0 when empty): a new write must stamp past it. */
    public long maxTimestamp() {
        return entries.values().stream().mapToLong(LwwRegister::timestamp).max().orElse(0);
    }

    /** The live values by name. */
    public Map<String, ByteString> values() {
        TreeMap<String, ByteString> out = new TreeMap<>();
        entries.forEach((k, v) -> {
            if (!v.deleted()) {
                out.put(k, v.value());
            }
        });
        return Collections.unmodifiableMap(out);
    }

    public ByteString toBytes() {
        AttributeMapState.Builder b = AttributeMapState.newBuilder();
        entries.forEach((k, v) -> {
            try {
                b.addEntries(AttributeEntry.newBuilder().setName(k).setValue(LwwRegisterState.parseFrom(v.toBytes())));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        });
        return b.build().toByteString();
    }

    /** @throws IllegalArgumentException when the bytes are not an attribute map */
    public static AttributeMap fromBytes(ByteString bytes) {
        try {
            TreeMap<String, LwwRegister> e = new TreeMap<>();
            for (AttributeEntry entry : AttributeMapState.parseFrom(bytes).getEntriesList()) {
                e.merge(entry.getName(), LwwRegister.fromBytes(entry.getValue().toByteString()), LwwRegister::merge);
            }
            return new AttributeMap(e);
        } catch (InvalidProtocolBufferException ex) {
            throw new IllegalArgumentException("not an attribute map: " + ex.getMessage());
        }
    }
}
