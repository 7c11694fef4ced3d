package io.smalti.ring.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.cluster.RingState;
import io.smalti.ring.Ring;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Converts rings to and from their wire and disk form ({@code RingState} in cluster.proto). Stateless. */
public final class RingCodec {
    private RingCodec() {}

    public static RingState toProto(Ring ring) {
        List<String> nodes = ring.nodes();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            index.put(nodes.get(i), i);
        }
        RingState.Builder b = RingState.newBuilder()
                .setEpoch(ring.epoch())
                .setRingSize(ring.size())
                .setReplicas(ring.replicas())
                .addAllNodes(nodes)
                .setClaimant(ring.claimant())
                .setPublishedAtMillis(ring.publishedAtMillis());
        for (String owner : ring.ownersByVnode()) {
            b.addOwners(index.get(owner));
        }
        return b.build();
    }

    /**
     * Rebuilds a ring, checking it is whole.
     *
     * @throws IllegalArgumentException saying what is inconsistent
     */
    public static Ring fromProto(RingState s) {
        if (s.getOwnersCount() != s.getRingSize()) {
            throw new IllegalArgumentException(
                    "ring state lists " + s.getOwnersCount() + " owners for " + s.getRingSize() + " vnodes");
        }
        String[] owners = new String[s.getRingSize()];
        for (int v = 0; v < owners.length; v++) {
            int i = s.getOwners(v);
            if (i < 0 || i >= s.getNodesCount()) {
                throw new IllegalArgumentException("ring state names node #" + i + " for vnode " + v
                        + " but lists " + s.getNodesCount() + " nodes");
            }
            owners[v] = s.getNodes(i);
        }
        return Ring.of(s.getEpoch(), s.getReplicas(), owners, s.getClaimant(), s.getPublishedAtMillis());
    }

    public static byte[] toBytes(Ring ring) {
        return toProto(ring).toByteArray();
    }

    public static Ring fromBytes(byte[] bytes) {
        try {
            return fromProto(RingState.parseFrom(bytes));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("ring state is not a valid RingState message: " + e.getMessage(), e);
        }
    }
}
