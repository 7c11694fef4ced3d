package io.smalti.hub.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.GroupMember;
import io.smalti.protocol.hub.HubCommand;
import io.smalti.protocol.hub.HubCommandReply;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.UpdateAttributes;
import io.smalti.protocol.vnode.Record;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.crdt.OrSet;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import io.smalti.ring.vnode.VnodeReplicaState;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** The hub's ring service on single replicas: what each command does to its record, and how replicas converge. */
class HubServiceTest {
    private final String component = Id.random(Category.INSTANCE, ThreadLocalRandom.current()).toString();

    private static VnodeReplicaState replica(String node) {
        return new HubService(node, new Hlc()).newReplica(0);
    }

    private static int run(VnodeReplicaState r, String key, HubCommand.Builder cmd) {
        try {
            return HubCommandReply.parseFrom(r.handle(key, cmd.build().toByteString()).reply()).getSize();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static Set<String> set(VnodeReplicaState r, String key) {
        Set<String> out = new TreeSet<>();
        r.get(key).ifPresent(rec -> OrSet.fromBytes(rec.getValue()).elements().forEach(e -> out.add(e.toStringUtf8())));
        return out;
    }

    private static Optional<Location> location(VnodeReplicaState r, String key) {
        return r.get(key).map(rec -> LwwRegister.fromBytes(rec.getValue())).filter(reg -> !reg.deleted())
                .map(HubService::location);
    }

    private static Location at(String node, long session) {
        return Location.newBuilder().setNode(node).setSession(session).build();
    }

    private static HubCommand.Builder join(String component, long session) {
        return HubCommand.newBuilder().setJoin(GroupMember.newBuilder().setComponent(component).setSession(session));
    }

    private static HubCommand.Builder leave(String component, long session) {
        return HubCommand.newBuilder().setLeave(GroupMember.newBuilder().setComponent(component).setSession(session));
    }

    private static Set<String> members(VnodeReplicaState r, String key) {
        return r.get(key).map(rec -> HubService.components(OrSet.fromBytes(rec.getValue()))).orElse(Set.of());
    }

    @Test
    void membersAreASetAndEveryChangeAnswersItsSize() {
        VnodeReplicaState r = replica("n1");
        String key = HubKeys.members("g");
        assertEquals(1, run(r, key, join("a", 1)));
        assertEquals(2, run(r, key, join("b", 2)));
        assertEquals(2, run(r, key, join("a", 1)), "joining twice is no error");
        assertEquals(1, run(r, key, leave("a", 1)));
        assertEquals(1, run(r, key, leave("nobody", 3)), "leaving a group one is not in");
        assertEquals(Set.of("b"), members(r, key));
    }

    @Test
    void aComponentThatConnectedAgainStaysAMemberWhateverOrderItsOldSessionsEndArrivesIn() {
        VnodeReplicaState r = replica("n1");
        String key = HubKeys.members("g");
        run(r, key, join("a", 10));
        // The node of session 10 was lost; the component connected again (session 20) and joined before the
        // clean-up after session 10 removed it.
        assertEquals(1, run(r, key, join("a", 20)));
        assertEquals(Set.of("a:20"), set(r, key), "the later session's entry replaced the earlier one's");
        assertEquals(1, run(r, key, leave("a", 10)));
        assertEquals(1, run(r, key, join("a", 10)), "a late join of the earlier session changes nothing");
        assertEquals(Set.of("a:20"), set(r, key));
        assertEquals(0, run(r, key, leave("a", 20)));
        assertEquals(Set.of(), members(r, key));
    }

    @Test
    void aMemberWrittenWithoutASessionIsReplacedByAJoinAndEndedByALeave() {
        VnodeReplicaState r = replica("n1");
        String key = HubKeys.members("g");
        run(r, key, HubCommand.newBuilder().setAddMember("a"));
        run(r, key, HubCommand.newBuilder().setAddMember("b"));
        assertEquals(2, run(r, key, join("a", 5)));
        assertEquals(Set.of("a:5", "b"), set(r, key));
        assertEquals(1, run(r, key, leave("b", 1)));
        assertEquals(Set.of("a"), members(r, key));
    }

    @Test
    void anOldSessionsDisconnectDoesNotEraseANewerConnection() {
        VnodeReplicaState r = replica("n1");
        String key = HubKeys.location(component);
        assertEquals(0, run(r, key, HubCommand.newBuilder().setClearLocation(at("n1", 1))), "nothing to clear");
        run(r, key, HubCommand.newBuilder().setSetLocation(at("n1", 1)));
        run(r, key, HubCommand.newBuilder().setSetLocation(at("n2", 7))); // the harness reconnected elsewhere
        assertEquals(1, run(r, key, HubCommand.newBuilder().setClearLocation(at("n1", 1))));
        assertEquals(Optional.of(at("n2", 7)), location(r, key));
        assertEquals(0, run(r, key, HubCommand.newBuilder().setClearLocation(at("n2", 7))));
        assertEquals(Optional.empty(), location(r, key));
        run(r, key, HubCommand.newBuilder().setSetLocation(at("n1", 8)));
        assertEquals(Optional.of(at("n1", 8)), location(r, key), "a later connection after a clear");
    }

    @Test
    void attributesAreSetAndRemovedByName() {
        VnodeReplicaState r = replica("n1");
        String key = HubKeys.attributes(component);
        assertEquals(2, run(r, key, HubCommand.newBuilder().setUpdateAttributes(UpdateAttributes.newBuilder()
                .putSet("a", ByteString.copyFromUtf8("1")).putSet("b", ByteString.copyFromUtf8("2")))));
        assertEquals(1, run(r, key, HubCommand.newBuilder().setUpdateAttributes(UpdateAttributes.newBuilder()
                .addRemove("a"))));
        assertEquals(Map.of("b", ByteString.copyFromUtf8("2")),
                AttributeMap.fromBytes(r.get(key).orElseThrow().getValue()).values());
    }

    @Test
    void replicasThatSawDifferentWritesConvergeWhenTheyExchangeRecords() {
        VnodeReplicaState x = replica("n1");
        VnodeReplicaState y = replica("n2");
        String members = HubKeys.members("g");
        String where = HubKeys.location(component);
        run(x, members, join("a", 1));
        run(y, members, join("b", 2));
        run(x, where, HubCommand.newBuilder().setSetLocation(at("n1", 1)));
        run(y, where, HubCommand.newBuilder().setSetLocation(at("n2", 2)));
        for (String key : new String[] {members, where}) {
            Record fromX = x.get(key).orElseThrow();
            Record fromY = y.get(key).orElseThrow();
            x.merge(fromY);
            y.merge(fromX);
            assertEquals(x.get(key), y.get(key), key);
        }
        assertEquals(Set.of("a", "b"), members(x, members));
        assertTrue(location(x, where).isPresent());
        assertEquals(x.digest(), y.digest());
    }

    @Test
    void commandsThatDoNotFitTheirRecordAreRefused() {
        VnodeReplicaState r = replica("n1");
        assertThrows(IllegalArgumentException.class, () -> r.handle(HubKeys.location(component),
                HubCommand.newBuilder().setAddMember("a").build().toByteString()));
        assertThrows(IllegalArgumentException.class, () -> r.handle(HubKeys.members("g"),
                HubCommand.newBuilder().setSetLocation(at("n1", 1)).build().toByteString()));
        assertThrows(IllegalArgumentException.class, () -> r.handle(HubKeys.GROUP_INDEX,
                join("a", 1).build().toByteString()), "only a group's members are joined");
        assertThrows(IllegalArgumentException.class, () -> r.handle("no-such-kind/x",
                HubCommand.newBuilder().setAddMember("a").build().toByteString()));
        assertThrows(IllegalArgumentException.class, () -> r.handle(HubKeys.members("g"), ByteString.copyFrom(new byte[] {(byte) 0xff})));
        assertThrows(IllegalArgumentException.class, () -> r.handle(HubKeys.members("g"), ByteString.EMPTY), "no operation");
        assertTrue(r.isEmpty(), "a refused command changes nothing");
    }
}
