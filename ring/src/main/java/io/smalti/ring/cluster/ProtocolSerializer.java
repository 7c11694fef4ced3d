package io.smalti.ring.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.smalti.protocol.cluster.NodeInfo;
import io.smalti.protocol.cluster.TransferList;
import io.smalti.protocol.hub.HubRelay;
import io.smalti.protocol.vnode.RecordsChanged;
import io.smalti.protocol.vnode.ReplicaSnapshot;
import io.smalti.protocol.vnode.VnodeEnvelope;
import java.io.NotSerializableException;
import java.util.Map;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Pekko serializer for everything Smalti sends between nodes or writes to a journal: the protobuf
 * messages of {@code protocol}, plus the ring register (carried as a {@code RingState}). Manifests are
 * short and stable (they are stored in journals). Registered in {@code reference.conf}; stateless and
 * thread-safe.
 */
public final class ProtocolSerializer extends SerializerWithStringManifest {
    static final String RING_REGISTER = "R1";

    private record Kind(String manifest, Parser<? extends MessageLite> parser) {}

    private static final Map<Class<?>, Kind> KINDS = Map.of(
            NodeInfo.class, new Kind("N1", NodeInfo.parser()),
            TransferList.class, new Kind("T1", TransferList.parser()),
            VnodeEnvelope.class, new Kind("V1", VnodeEnvelope.parser()),
            RecordsChanged.class, new Kind("E1", RecordsChanged.parser()),
            ReplicaSnapshot.class, new Kind("S1", ReplicaSnapshot.parser()),
            HubRelay.class, new Kind("H1", HubRelay.parser()));

    private static final Map<String, Parser<? extends MessageLite>> PARSERS = KINDS.values().stream()
            .collect(java.util.stream.Collectors.toUnmodifiableMap(Kind::manifest, Kind::parser));

    public ProtocolSerializer(ExtendedActorSystem system) {}

    @Override
    public int identifier() {
        return 731_001;
    }

    @Override
    public String manifest(Object o) {
        if (o instanceof RingRegister) {
            return RING_REGISTER;
        }
        Kind k = KINDS.get(o.getClass());
        if (k == null) {
            throw new IllegalArgumentException("ProtocolSerializer cannot serialize " + o.getClass().getName());
        }
        return k.manifest();
    }

    @Override
    public byte[] toBinary(Object o) {
        if (o instanceof RingRegister r) {
            return r.ring() == null ? new byte[0] : RingCodec.toBytes(r.ring());
        }
        if (o instanceof MessageLite m && KINDS.containsKey(o.getClass())) {
            return m.toByteArray();
        }
        throw new IllegalArgumentException("ProtocolSerializer cannot serialize " + o.getClass().getName());
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        try {
            if (RING_REGISTER.equals(manifest)) {
                return bytes.length == 0 ? RingRegister.EMPTY : RingRegister.of(RingCodec.fromBytes(bytes));
            }
            Parser<? extends MessageLite> parser = PARSERS.get(manifest);
            if (parser == null) {
                throw new NotSerializableException("unknown manifest '" + manifest + "' for ProtocolSerializer");
            }
            return parser.parseFrom(bytes);
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new NotSerializableException("bad " + manifest + " message: " + e.getMessage());
        }
    }
}
