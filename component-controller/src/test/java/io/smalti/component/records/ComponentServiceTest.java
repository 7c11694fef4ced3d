package io.smalti.component.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.protocol.component.ComponentCommand;
import io.smalti.protocol.vnode.Record;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.crdt.OrSet;
import io.smalti.ring.vnode.VnodeReplicaState;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The components ring service on single replicas: what each command does to its record, and how replicas converge. */
class ComponentServiceTest {
    private static final String TYPE = ComponentKeys.type("0123456789abcdef0123456789abcdef01234567");
    private static final String INSTANCES = ComponentKeys.instances("0123456789abcdef0123456789abcdef01234567");

    private final ComponentService n1 = new ComponentService("n1", new Hlc());
    private final ComponentService n2 = new ComponentService("n2", new Hlc());

    private static ComponentCommand.Builder put(String value) {
        return ComponentCommand.newBuilder().setPut(ByteString.copyFromUtf8(value));
    }

    private static ComponentCommand.Builder add(String element) {
        return ComponentCommand.newBuilder().setAdd(element);
    }

    private static ComponentCommand.Builder remove(String element) {
        return ComponentCommand.newBuilder().setRemove(element);
    }

    private static List<Record> run(VnodeReplicaState r, String key, ComponentCommand.Builder cmd) {
        VnodeReplicaState.Handled h = r.handle(key, cmd.build().toByteString());
        assertEquals(ByteString.EMPTY, h.reply(), "the service answers nothing but success");
        return h.changed();
    }

    private static Optional<String> value(VnodeReplicaState r, String key) {
        return r.get(key).map(rec -> LwwRegister.fromBytes(rec.getValue())).filter(reg -> !reg.deleted())
                .map(reg -> reg.value().toStringUtf8());
    }

    private static Set<String> set(VnodeReplicaState r, String key) {
        Set<String> out = new TreeSet<>();
        r.get(key).ifPresent(rec -> OrSet.fromBytes(rec.getValue()).elements().forEach(e -> out.add(e.toStringUtf8())));
        return out;
    }

    /** Merges every record of {@code from} into {@code to}. */
    private static void sync(VnodeReplicaState from, VnodeReplicaState to) {
        from.fold("", Integer.MAX_VALUE).forEach(to::merge);
    }

    @Test
    void putSetsARegisterAndTheLastPutWins() {
        VnodeReplicaState r = n1.newReplica(0);
        assertEquals(Optional.empty(), value(r, TYPE));
        assertEquals(1, run(r, TYPE, put("one")).size());
        assertEquals(Optional.of("one"), value(r, TYPE));
        run(r, TYPE, put("two"));
        assertEquals(Optional.of("two"), value(r, TYPE), "a later put replaces the value");
        run(r, TYPE, put("one"));
        assertEquals(Optional.of("one"), value(r, TYPE), "even back to an older value");
        for (String key : List.of(ComponentKeys.bundle("d"), ComponentKeys.chunk("d", 3), ComponentKeys.placement("i"),
                ComponentKeys.status("i"), ComponentKeys.node("n1"), ComponentKeys.drain("n1"))) {
            run(r, key, put("v"));
            assertEquals(Optional.of("v"), value(r, key), key + " is a register");
        }
    }

    @Test
    void aPutIsStampedAfterTheValueItReplaces() {
        // A register merged in from a node whose clock runs ahead: the next local put must still win.
        VnodeReplicaState r = n1.newReplica(0);
        long ahead = Hlc.of(System.currentTimeMillis() + 3_600_000, 0);
        r.merge(Record.newBuilder().setKey(TYPE)
                .setValue(LwwRegister.of(ByteString.copyFromUtf8("from the future"), ahead, "n9").toBytes()).build());
        run(r, TYPE, put("now"));
        assertEquals(Optional.of("now"), value(r, TYPE));
    }

    @Test
    void addAndRemoveChangeASet() {
        VnodeReplicaState r = n1.newReplica(0);
        assertEquals(Set.of(), set(r, INSTANCES));
        run(r, INSTANCES, add("a"));
        run(r, INSTANCES, add("b"));
        run(r, INSTANCES, add("a"));
        assertEquals(Set.of("a", "b"), set(r, INSTANCES), "adding twice is no error");
        run(r, INSTANCES, remove("a"));
        assertEquals(Set.of("b"), set(r, INSTANCES));
        assertEquals(List.of(), run(r, INSTANCES, remove("nobody")), "removing an absent element changes nothing");
        assertEquals(List.of(), run(r, ComponentKeys.placed("n7"), remove("x")), "nor on a set that does not exist");
        assertEquals(Optional.empty(), r.get(ComponentKeys.placed("n7")), "which is not created by it");
        for (String key : List.of(ComponentKeys.placed("n1"), ComponentKeys.TYPE_INDEX, ComponentKeys.BUNDLE_INDEX)) {
            run(r, key, add("x"));
            assertEquals(Set.of("x"), set(r, key), key + " is a set");
        }
    }

    @Test
    void replicasConvergeWhicheverWayTheyMerge() {
        VnodeReplicaState a = n1.newReplica(0);
        VnodeReplicaState b = n2.newReplica(0);
        run(a, TYPE, put("from n1"));
        run(b, TYPE, put("from n2"));
        run(a, INSTANCES, add("x"));
        run(a, INSTANCES, add("y"));
        run(b, INSTANCES, add("z"));
        sync(a, b);
        sync(b, a);
        assertEquals(value(a, TYPE), value(b, TYPE), "both keep the same winner");
        assertEquals(Set.of("x", "y", "z"), set(a, INSTANCES));
        assertEquals(set(a, INSTANCES), set(b, INSTANCES));
        assertEquals(a.get(TYPE), b.get(TYPE), "identical bytes");
        assertEquals(a.get(INSTANCES), b.get(INSTANCES), "identical bytes");
        assertEquals(a.digest(), b.digest());

        // a removes x while b concurrently adds x again: the concurrent add survives (add wins)
        run(a, INSTANCES, remove("x"));
        run(b, INSTANCES, add("x"));
        run(b, INSTANCES, remove("y"));
        sync(a, b);
        sync(b, a);
        assertEquals(Set.of("x", "z"), set(a, INSTANCES));
        assertEquals(Set.of("x", "z"), set(b, INSTANCES));
    }

    @Test
    void mergeIsCommutativeAndIdempotent() {
        VnodeReplicaState a = n1.newReplica(0);
        VnodeReplicaState b = n2.newReplica(0);
        run(a, TYPE, put("a"));
        run(b, TYPE, put("b"));
        run(a, INSTANCES, add("1"));
        run(b, INSTANCES, add("2"));
        run(b, INSTANCES, remove("2"));
        run(b, INSTANCES, add("3"));
        for (String key : List.of(TYPE, INSTANCES)) {
            ByteString x = a.get(key).orElseThrow().getValue();
            ByteString y = b.get(key).orElseThrow().getValue();
            ByteString xy = n1.merge(key, x, y);
            assertEquals(xy, n2.merge(key, y, x), key + ": commutative");
            assertEquals(x, n1.merge(key, x, x), key + ": idempotent");
            assertEquals(xy, n1.merge(key, xy, y), key + ": merging again changes nothing");
            assertEquals(xy, n1.merge(key, x, xy), key + ": nor merging an older value");
        }
        b.fold("", 100).forEach(a::merge);
        assertTrue(b.fold("", 100).stream().noneMatch(a::merge), "a second merge of the same records changes nothing");
    }

    @Test
    void aCommandForTheWrongShapeOfKeyIsRefused() {
        VnodeReplicaState r = n1.newReplica(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(r, INSTANCES, put("v")));
        assertEquals("put does not apply to set " + INSTANCES, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run(r, TYPE, add("x")));
        assertEquals("ADD does not apply to register " + TYPE, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run(r, TYPE, remove("x")));
        assertEquals("REMOVE does not apply to register " + TYPE, e.getMessage());
        assertTrue(r.isEmpty(), "a refused command changes nothing");
    }

    @Test
    void unknownKeyKindsAreRefused() {
        VnodeReplicaState r = n1.newReplica(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(r, "widget/1", put("v")));
        assertEquals("not a components record key: widget/1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run(r, "widget/1", add("v")));
        assertEquals("not a components record key: widget/1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run(r, "", add("v")));
        assertEquals("not a components record key: ", e.getMessage());
        ByteString v = LwwRegister.of(ByteString.copyFromUtf8("v"), 1, "n1").toBytes();
        e = assertThrows(IllegalArgumentException.class, () -> n1.merge("widget/1", v, v));
        assertEquals("not a components record key: widget/1", e.getMessage());
        assertTrue(r.isEmpty());
    }

    @Test
    void malformedCommandsAreRefused() {
        VnodeReplicaState r = n1.newReplica(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> r.handle(TYPE, ComponentCommand.getDefaultInstance().toByteString()));
        assertEquals("components command has no operation", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> r.handle(TYPE, ByteString.copyFrom(new byte[] {(byte) 0xff})));
        assertTrue(e.getMessage().startsWith("not a components command: "), e.getMessage());
        assertTrue(r.isEmpty());
    }
}
