package io.smalti.ring.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.kv.KvCommand;
import io.smalti.protocol.kv.KvWriteReply;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.vnode.RecordMap;
import io.smalti.ring.vnode.VnodeReplicaState;
import io.smalti.ring.vnode.VnodeService;

/**
 * The replicated key-value test service ({@value #NAME}): each key holds a last-writer-wins register.
 * The coordinator stamps a write with its node's hybrid logical clock, advanced past the key's current
 * timestamp, so a write always supersedes what its coordinator has seen; concurrent writes on two sides
 * of a partition resolve to the higher timestamp on every replica. It exists for tests, benchmarks and
 * operators' smoke tests of the vnode framework. Thread-safe.
 */
public final class KvService implements VnodeService {
    public static final String NAME = "kv";

    private final String node;
    private final Hlc clock;

    public KvService(String node, Hlc clock) {
        this.node = node;
        this.clock = clock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public VnodeReplicaState newReplica(int vnode) {
        return new RecordMap(this::merge, this::apply);
    }

    @Override
    public ByteString merge(String key, ByteString a, ByteString b) {
        LwwRegister x = LwwRegister.fromBytes(a);
        LwwRegister y = LwwRegister.fromBytes(b);
        // A replica seeing a remote timestamp moves its clock past it (the HLC receive rule).
        clock.update(Math.max(x.timestamp(), y.timestamp()));
        return x.merge(y).toBytes();
    }

    private RecordMap.Outcome apply(String key, ByteString current, ByteString command) {
        KvCommand cmd;
        try {
            cmd = KvCommand.parseFrom(command);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a kv command: " + e.getMessage());
        }
        long after = current == null ? 0 : LwwRegister.fromBytes(current).timestamp();
        long ts = clock.update(after);
        LwwRegister written = switch (cmd.getOpCase()) {
            case PUT -> LwwRegister.of(cmd.getPut().getValue(), ts, node);
            case DELETE -> LwwRegister.tombstone(ts, node);
            default -> throw new IllegalArgumentException("kv command has no operation");
        };
        return new RecordMap.Outcome(written.toBytes(), KvWriteReply.newBuilder().setTimestamp(ts).build().toByteString());
    }
}
