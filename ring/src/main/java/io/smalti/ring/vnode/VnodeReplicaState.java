package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.Record;
import java.util.List;
import java.util.Optional;

/**
 * The records of one service in one vnode, as held by one replica: the service SPI the framework calls
 * (in the spirit of a riak_core vnode). Confined to the replica's actor: never called concurrently.
 * Methods must not block.
 */
public interface VnodeReplicaState {

    /** What a write command did: the records it changed (already merged into this state) and the reply. */
    record Handled(List<Record> changed, ByteString reply) {}

    /**
     * Runs a write command on {@code key}. The framework journals the changed records, replicates them
     * to the other replicas and sends the reply once W replicas have persisted them.
     *
     * @throws IllegalArgumentException saying what is wrong with the command; nothing changes
     */
    Handled handle(String key, ByteString command);

    /** Merges a record from another replica, a handoff, a repair or the journal; true if this state changed. */
    boolean merge(Record record);

    /** The record of {@code key}, if this replica has one. */
    Optional<Record> get(String key);

    /** Up to {@code max} records with keys after {@code afterKey} (exclusive; "" = from the start), in key order. */
    List<Record> fold(String afterKey, int max);

    /**
     * Up to {@code max} records with keys after {@code afterKey} (exclusive; "" = from the start) that fall
     * in one of the given {@link Digest} buckets, in key order.
     */
    List<Record> inBuckets(java.util.BitSet buckets, String afterKey, int max);

    boolean isEmpty();

    /** How many records this replica holds. */
    int size();

    /** The anti-entropy digest: one hash per bucket of keys, kept current as records change. */
    Digest digest();
}
