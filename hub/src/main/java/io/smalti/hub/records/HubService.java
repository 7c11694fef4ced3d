package io.smalti.hub.records;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.hub.GroupMember;
import io.smalti.protocol.hub.HubCommand;
import io.smalti.protocol.hub.HubCommandReply;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.UpdateAttributes;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.crdt.OrSet;
import io.smalti.ring.vnode.RecordMap;
import io.smalti.ring.vnode.VnodeReplicaState;
import io.smalti.ring.vnode.VnodeService;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The hub's ring service ({@value #NAME}): group members, component locations, watchers (monitors and
 * links) and attributes, as CRDT records kept by the vnode framework. Sets (members, watchers, the group
 * index) are add-wins OR-sets, locations LWW registers, attributes per-name LWW maps (see
 * {@link HubKeys} for the keys). A group's set holds one entry per member session, so that ending an old
 * session (its node was lost) cannot end the membership of the component's newer one. Thread-safe.
 */
public final class HubService implements VnodeService {
    public static final String NAME = "hub";

    private final String node;
    private final Hlc clock;

    public HubService(String node, Hlc clock) {
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
        return switch (shape(key)) {
            case SET -> OrSet.fromBytes(a).merge(OrSet.fromBytes(b)).toBytes();
            case REGISTER -> {
                LwwRegister x = LwwRegister.fromBytes(a);
                LwwRegister y = LwwRegister.fromBytes(b);
                clock.update(Math.max(x.timestamp(), y.timestamp()));
                yield x.merge(y).toBytes();
            }
            case ATTRIBUTES -> {
                AttributeMap x = AttributeMap.fromBytes(a);
                AttributeMap y = AttributeMap.fromBytes(b);
                clock.update(Math.max(x.maxTimestamp(), y.maxTimestamp()));
                yield x.merge(y).toBytes();
            }
        };
    }

    private enum Shape { SET, REGISTER, ATTRIBUTES }

    private static Shape shape(String key) {
        return switch (HubKeys.kind(key)) {
            case HubKeys.MEMBERS, HubKeys.WATCHERS, HubKeys.GROUP_WATCHERS, HubKeys.CONNECTED, "index" -> Shape.SET;
            case HubKeys.LOCATION -> Shape.REGISTER;
            case HubKeys.ATTRIBUTES, HubKeys.GROUP_ATTRIBUTES -> Shape.ATTRIBUTES;
            default -> throw new IllegalArgumentException("not a hub record key: " + HubKeys.abbreviate(key));
        };
    }

    private RecordMap.Outcome apply(String key, ByteString current, ByteString command) {
        HubCommand cmd;
        try {
            cmd = HubCommand.parseFrom(command);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a hub command: " + e.getMessage());
        }
        Shape shape = shape(key);
        switch (cmd.getOpCase()) {
            case ADD_MEMBER, ADD_WATCHER, REMOVE_MEMBER, REMOVE_WATCHER -> {
                require(shape == Shape.SET, cmd, key);
                OrSet set = current == null ? OrSet.empty() : OrSet.fromBytes(current);
                boolean add = cmd.getOpCase() == HubCommand.OpCase.ADD_MEMBER || cmd.getOpCase() == HubCommand.OpCase.ADD_WATCHER;
                ByteString element = ByteString.copyFromUtf8(add
                        ? (cmd.hasAddMember() ? cmd.getAddMember() : cmd.getAddWatcher())
                        : (cmd.hasRemoveMember() ? cmd.getRemoveMember() : cmd.getRemoveWatcher()));
                OrSet next = add ? set.add(node, element) : set.remove(element);
                return new RecordMap.Outcome(next == set ? null : next.toBytes(), size(next.size()));
            }
            case JOIN, LEAVE -> {
                require(HubKeys.kind(key).equals(HubKeys.MEMBERS), cmd, key);
                OrSet set = current == null ? OrSet.empty() : OrSet.fromBytes(current);
                OrSet next = cmd.hasJoin() ? join(set, cmd.getJoin()) : leave(set, cmd.getLeave());
                return new RecordMap.Outcome(next == set ? null : next.toBytes(), size(components(next).size()));
            }
            case SET_LOCATION -> {
                require(shape == Shape.REGISTER, cmd, key);
                long ts = clock.update(current == null ? 0 : LwwRegister.fromBytes(current).timestamp());
                return new RecordMap.Outcome(LwwRegister.of(cmd.getSetLocation().toByteString(), ts, node).toBytes(), size(1));
            }
            case CLEAR_LOCATION -> {
                require(shape == Shape.REGISTER, cmd, key);
                if (current == null) {
                    return new RecordMap.Outcome(null, size(0));
                }
                LwwRegister reg = LwwRegister.fromBytes(current);
                // Only the session that set the location may clear it: a reconnect elsewhere may have won.
                if (reg.deleted() || !location(reg).equals(cmd.getClearLocation())) {
                    return new RecordMap.Outcome(null, size(reg.deleted() ? 0 : 1));
                }
                long ts = clock.update(reg.timestamp());
                return new RecordMap.Outcome(LwwRegister.tombstone(ts, node).toBytes(), size(0));
            }
            case UPDATE_ATTRIBUTES -> {
                require(shape == Shape.ATTRIBUTES, cmd, key);
                AttributeMap map = current == null ? AttributeMap.empty() : AttributeMap.fromBytes(current);
                long ts = clock.update(map.maxTimestamp());
                UpdateAttributes u = cmd.getUpdateAttributes();
                for (Map.Entry<String, ByteString> e : u.getSetMap().entrySet()) {
                    map = map.with(e.getKey(), e.getValue(), ts, node);
                }
                for (String name : u.getRemoveList()) {
                    map = map.with(name, null, ts, node);
                }
                return new RecordMap.Outcome(map.toBytes(), size(map.values().size()));
            }
            default -> throw new IllegalArgumentException("hub command has no operation");
        }
    }

    /**
     * {@code m}'s session joins: replaces the component's entries of earlier sessions, or changes nothing when a
     * later session's entry is there already (this join arrived after the component had connected again).
     */
    private OrSet join(OrSet set, GroupMember m) {
        ByteString mine = ByteString.copyFromUtf8(HubKeys.memberEntry(m.getComponent(), m.getSession()));
        OrSet next = set;
        for (ByteString e : set.elements()) {
            HubKeys.Member other = HubKeys.member(e.toStringUtf8());
            if (other.component().equals(m.getComponent()) && other.session() != m.getSession()) {
                if (other.session() > m.getSession()) {
                    return set;
                }
                next = next.remove(e);
            }
        }
        return next.contains(mine) ? next : next.add(node, mine);
    }

    /** {@code m}'s session leaves: removes the component's entries of this session and earlier ones. */
    private static OrSet leave(OrSet set, GroupMember m) {
        OrSet next = set;
        for (ByteString e : set.elements()) {
            HubKeys.Member other = HubKeys.member(e.toStringUtf8());
            if (other.component().equals(m.getComponent()) && other.session() <= m.getSession()) {
                next = next.remove(e);
            }
        }
        return next;
    }

    /** The components that are members in a group's set (a component may briefly have two sessions' entries). */
    static Set<String> components(OrSet members) {
        Set<String> out = new TreeSet<>();
        members.elements().forEach(e -> out.add(HubKeys.member(e.toStringUtf8()).component()));
        return out;
    }

    static Location location(LwwRegister reg) {
        try {
            return Location.parseFrom(reg.value());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a location: " + e.getMessage());
        }
    }

    private static void require(boolean ok, HubCommand cmd, String key) {
        if (!ok) {
            throw new IllegalArgumentException(cmd.getOpCase() + " does not apply to record " + HubKeys.abbreviate(key));
        }
    }

    private static ByteString size(int n) {
        return HubCommandReply.newBuilder().setSize(n).build().toByteString();
    }
}
