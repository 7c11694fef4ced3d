package io.smalti.component.records;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.component.ComponentCommand;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.crdt.OrSet;
import io.smalti.ring.vnode.RecordMap;
import io.smalti.ring.vnode.VnodeReplicaState;
import io.smalti.ring.vnode.VnodeService;

/**
 * The component controller's ring service ({@value #NAME}): bundles and their chunks, types, placements
 * and statuses of instances, node statuses (LWW registers) and the indexes (OR-sets) listed in
 * {@link ComponentKeys}. Thread-safe.
 */
public final class ComponentService implements VnodeService {
    public static final String NAME = "components";

    private final String node;
    private final Hlc clock;

    public ComponentService(String node, Hlc clock) {
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
        if (isSet(key)) {
            return OrSet.fromBytes(a).merge(OrSet.fromBytes(b)).toBytes();
        }
        LwwRegister x = LwwRegister.fromBytes(a);
        LwwRegister y = LwwRegister.fromBytes(b);
        clock.update(Math.max(x.timestamp(), y.timestamp()));
        return x.merge(y).toBytes();
    }

    static boolean isSet(String key) {
        return switch (ComponentKeys.kind(key)) {
            case ComponentKeys.INSTANCES, ComponentKeys.PLACED, ComponentKeys.INDEX -> true;
            case ComponentKeys.BUNDLE, ComponentKeys.CHUNK, ComponentKeys.TYPE, ComponentKeys.INSTANCE,
                    ComponentKeys.STATUS, ComponentKeys.NODE, ComponentKeys.DRAIN, ComponentKeys.STOPPING -> false;
            default -> throw new IllegalArgumentException("not a components record key: " + key);
        };
    }

    private RecordMap.Outcome apply(String key, ByteString current, ByteString command) {
        ComponentCommand cmd;
        try {
            cmd = ComponentCommand.parseFrom(command);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a components command: " + e.getMessage());
        }
        boolean set = isSet(key);
        switch (cmd.getOpCase()) {
            case PUT -> {
                if (set) {
                    throw new IllegalArgumentException("put does not apply to set " + key);
                }
                long ts = clock.update(current == null ? 0 : LwwRegister.fromBytes(current).timestamp());
                return new RecordMap.Outcome(LwwRegister.of(cmd.getPut(), ts, node).toBytes(), ByteString.EMPTY);
            }
            case ADD, REMOVE -> {
                if (!set) {
                    throw new IllegalArgumentException(cmd.getOpCase() + " does not apply to register " + key);
                }
                OrSet s = current == null ? OrSet.empty() : OrSet.fromBytes(current);
                ByteString element = ByteString.copyFromUtf8(cmd.hasAdd() ? cmd.getAdd() : cmd.getRemove());
                OrSet next = cmd.hasAdd() ? s.add(node, element) : s.remove(element);
                return new RecordMap.Outcome(next == s ? null : next.toBytes(), ByteString.EMPTY);
            }
            default -> throw new IllegalArgumentException("components command has no operation");
        }
    }
}
