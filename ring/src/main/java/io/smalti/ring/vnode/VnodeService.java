package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;

/**
 * A ring service: keeps records in the vnodes of the ring, and lets the vnode framework replicate,
 * hand off and repair them. The service decides what a record's value is (an encoded CRDT state) and
 * what its commands do; the framework decides where replicas live, journals every change, replicates
 * writes to the preference list, moves replicas when the ring changes and compares replicas in the
 * background.
 *
 * <p>Implementations must be thread-safe: {@link #newReplica} and {@link #merge} are called from many
 * replicas' actors at once. Each {@link VnodeReplicaState} is confined to its replica's actor.
 */
public interface VnodeService {

    /** A short, stable name (letters, digits, '-'): part of journal ids and of every request. */
    String name();

    /** A new, empty replica of this service's records for one vnode. */
    VnodeReplicaState newReplica(int vnode);

    /**
     * Joins two versions of one record's value, e.g. the answers of R replicas to a read. Must be
     * commutative, associative and idempotent, and agree with the replicas' own merge.
     *
     * @throws IllegalArgumentException when a value cannot be decoded
     */
    ByteString merge(String key, ByteString a, ByteString b);
}
