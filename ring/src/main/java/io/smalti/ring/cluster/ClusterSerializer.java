package io.smalti.ring.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.cluster.NodeInfo;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Pekko serializer for the cluster layer's replicated values, using the protobuf messages of
 * {@code cluster.proto}. Registered in {@code reference.conf}; stateless and thread-safe.
 */
public final class ClusterSerializer extends SerializerWithStringManifest {
    static final String RING_REGISTER = "R1";
    static final String NODE_INFO = "N1";

    public ClusterSerializer(ExtendedActorSystem system) {}

    @Override
    public int identifier() {
        return 731_001;
    }

    @Override
    public String manifest(Object o) {
        if (o instanceof RingRegister) {
            return RING_REGISTER;
        }
        if (o instanceof NodeInfo) {
            return NODE_INFO;
        }
        throw new IllegalArgumentException("ClusterSerializer cannot serialize " + o.getClass().getName());
    }

    @Override
    public byte[] toBinary(Object o) {
        if (o instanceof RingRegister r) {
            return r.ring() == null ? new byte[0] : RingCodec.toBytes(r.ring());
        }
        if (o instanceof NodeInfo n) {
            return n.toByteArray();
        }
        throw new IllegalArgumentException("ClusterSerializer cannot serialize " + o.getClass().getName());
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            switch (manifest) {
                case RING_REGISTER:
                    return bytes.length == 0 ? RingRegister.EMPTY : RingRegister.of(RingCodec.fromBytes(bytes));
                case NODE_INFO:
                    return NodeInfo.parseFrom(bytes);
                default:
                    throw new NotSerializableException("unknown manifest '" + manifest + "' for ClusterSerializer");
            }
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new NotSerializableException("bad " + manifest + " message: " + e.getMessage());
        }
    }
}
