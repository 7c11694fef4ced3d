package io.smalti.ring.vnode;

import io.smalti.protocol.cluster.Transfer;
import io.smalti.protocol.cluster.TransferList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the handoff manager shares with the host and the API: which replicas on this node are still
 * receiving their records (and from whom), and the transfers of every node. Written by the handoff
 * manager only; readable from any thread.
 */
final class HandoffState {
    /** Replicas still receiving a handoff, with the node they are pulling from. */
    final ConcurrentHashMap<ReplicaKey, String> receiving = new ConcurrentHashMap<>();

    /** Each node's published transfers, by node name. */
    final AtomicReference<Map<String, TransferList>> cluster = new AtomicReference<>(Map.of());

    /** This node's transfers as last computed. */
    final AtomicReference<List<Transfer>> local = new AtomicReference<>(List.of());

    /** Replicas this node still has to hand off (orphans not yet confirmed and deleted). */
    final AtomicInteger handingOff = new AtomicInteger();

    /**
     * The ring epoch {@link #handingOff} was computed for (-1: none yet). Written after it, so a reader
     * that sees this epoch also sees the count computed for it: right after a ring is applied, the count
     * is still the previous ring's.
     */
    final AtomicLong handingOffEpoch = new AtomicLong(-1);

    boolean isReceiving(ReplicaKey key) {
        return receiving.containsKey(key);
    }
}
