package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.Record;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A replica state for services whose records are independent CRDT values, one per key: a sorted map
 * with an incrementally maintained {@link Digest}. The service supplies how to join two values and
 * what a command does to a key's value. Confined to one replica's actor, like any replica state.
 */
public final class RecordMap implements VnodeReplicaState {

    /** Joins two encoded values of one key (commutative, associative, idempotent). */
    @FunctionalInterface
    public interface Merger {
        ByteString merge(String key, ByteString a, ByteString b);
    }

    /** What a command does to one key. */
    @FunctionalInterface
    public interface CommandHandler {
        /**
         * @param current the key's value, or null when there is none
         * @return the value to merge into the key (null: no change) and the reply
         * @throws IllegalArgumentException saying what is wrong with the command
         */
        Outcome apply(String key, ByteString current, ByteString command);
    }

    /** @param value the value to merge (null for none) */
    public record Outcome(ByteString value, ByteString reply) {}

    private final TreeMap<String, ByteString> records = new TreeMap<>();
    private final long[] buckets = new long[Digest.BUCKETS];
    private final Merger merger;
    private final CommandHandler handler;

    public RecordMap(Merger merger, CommandHandler handler) {
        this.merger = merger;
        this.handler = handler;
    }

    @Override
    public Handled handle(String key, ByteString command) {
        Outcome outcome = handler.apply(key, records.get(key), command);
        if (outcome.value() == null) {
            return new Handled(List.of(), outcome.reply());
        }
        ByteString merged = put(key, outcome.value());
        return new Handled(merged == null ? List.of() : List.of(record(key, merged)), outcome.reply());
    }

    @Override
    public boolean merge(Record record) {
        return put(record.getKey(), record.getValue()) != null;
    }

    /** Merges value into key; returns the new value, or null when nothing changed. */
    private ByteString put(String key, ByteString value) {
        ByteString old = records.get(key);
        ByteString merged = old == null ? value : merger.merge(key, old, value);
        if (merged.equals(old)) {
            return null;
        }
        records.put(key, merged);
        int b = Digest.bucketOf(key);
        if (old != null) {
            buckets[b] ^= Digest.hash(key, old);
        }
        buckets[b] ^= Digest.hash(key, merged);
        return merged;
    }

    @Override
    public Optional<Record> get(String key) {
        ByteString v = records.get(key);
        return v == null ? Optional.empty() : Optional.of(record(key, v));
    }

    @Override
    public List<Record> fold(String afterKey, int max) {
        return collect(afterKey, max, key -> true);
    }

    @Override
    public List<Record> inBuckets(BitSet wanted, String afterKey, int max) {
        return collect(afterKey, max, key -> wanted.get(Digest.bucketOf(key)));
    }

    private List<Record> collect(String afterKey, int max, Predicate<String> wanted) {
        List<Record> out = new ArrayList<>(Math.min(max, records.size()));
        for (Map.Entry<String, ByteString> e : records.tailMap(afterKey, false).entrySet()) {
            if (out.size() >= max) {
                break;
            }
            if (wanted.test(e.getKey())) {
                out.add(record(e.getKey(), e.getValue()));
            }
        }
        return out;
    }

    @Override
    public boolean isEmpty() {
        return records.isEmpty();
    }

    @Override
    public int size() {
        return records.size();
    }

    @Override
    public Digest digest() {
        return new Digest(buckets, records.size());
    }

    private static Record record(String key, ByteString value) {
        return Record.newBuilder().setKey(key).setValue(value).build();
    }
}
