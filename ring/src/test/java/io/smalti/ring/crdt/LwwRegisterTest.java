package io.smalti.ring.crdt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.protocol.crdt.LwwRegisterState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LwwRegisterTest {
    private static final ByteString[] VALUES = {
        ByteString.EMPTY, ByteString.copyFromUtf8("x"), ByteString.copyFromUtf8("y"), bytes(0xff), bytes(0x01)
    };
    private static final CrdtLaws<LwwRegister> LAWS =
            new CrdtLaws<>(LwwRegister::merge, LwwRegister::toBytes, LwwRegister::fromBytes);

    /** Replicas write and delete with timestamps from a tiny range, so (timestamp, node) often collides. */
    private record History(List<LwwRegister> replicas, List<LwwRegister> states) {}

    private static History simulate(Random rnd) {
        int n = 3 + rnd.nextInt(3);
        List<LwwRegister> replicas = new ArrayList<>();
        List<LwwRegister> states = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            replicas.add(write(rnd, "n" + i));
            states.add(replicas.get(i));
        }
        for (int step = 0; step < 60; step++) {
            int i = rnd.nextInt(n);
            LwwRegister other = rnd.nextInt(3) == 0 ? replicas.get(rnd.nextInt(n)) : write(rnd, "n" + i);
            states.add(other);
            replicas.set(i, replicas.get(i).merge(other));
            states.add(replicas.get(i));
        }
        return new History(replicas, states);
    }

    private static LwwRegister write(Random rnd, String node) {
        long timestamp = rnd.nextInt(6);
        return rnd.nextInt(4) == 0
                ? LwwRegister.tombstone(timestamp, node)
                : LwwRegister.of(VALUES[rnd.nextInt(VALUES.length)], timestamp, node);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("io.smalti.ring.crdt.CrdtLaws#seeds")
    void mergeIsCommutativeAssociativeAndIdempotent(long seed) {
        Random rnd = new Random(seed);
        List<LwwRegister> states = simulate(rnd).states();
        LAWS.assertLaws(states, rnd, seed);
        LAWS.assertRoundTrips(states, seed);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("io.smalti.ring.crdt.CrdtLaws#seeds")
    void replicasConvergeOnTheGreatestWrite(long seed) {
        Random rnd = new Random(seed);
        History h = simulate(rnd);
        LwwRegister converged = LAWS.assertConvergence(h.replicas(), h.states(), rnd, seed);
        Comparator<LwwRegister> order = Comparator.comparingLong(LwwRegister::timestamp)
                .thenComparing(LwwRegister::node)
                .thenComparing(LwwRegister::deleted)
                .thenComparing(LwwRegister::value, ByteString.unsignedLexicographicalComparator());
        assertEquals(h.states().stream().max(order).orElseThrow(), converged, "seed " + seed);
    }

    @Test
    void laterTimestampWins() {
        LwwRegister old = LwwRegister.of(ByteString.copyFromUtf8("old"), Hlc.of(1000, 7), "z");
        LwwRegister newer = LwwRegister.tombstone(Hlc.of(1001, 0), "a");
        assertEquals(newer, old.merge(newer));
        assertEquals(newer, newer.merge(old));
    }

    @Test
    void tiesBreakByNodeThenTombstoneThenUnsignedValueBytes() {
        long t = Hlc.of(1000, 1);
        LwwRegister a = LwwRegister.of(ByteString.copyFromUtf8("a"), t, "a");
        LwwRegister b = LwwRegister.of(ByteString.copyFromUtf8("a"), t, "b");
        assertEquals(b, a.merge(b));
        LwwRegister bDeleted = LwwRegister.tombstone(t, "b");
        assertEquals(bDeleted, b.merge(bDeleted));
        LwwRegister low = LwwRegister.of(bytes(0x01), t, "b");
        LwwRegister high = LwwRegister.of(bytes(0xff), t, "b"); // 0xff is -1 as a signed byte
        assertEquals(high, low.merge(high));
        assertEquals(high, high.merge(low));
    }

    @Test
    void tombstoneHasEmptyValue() {
        LwwRegister t = LwwRegister.tombstone(5, "a");
        assertTrue(t.deleted());
        assertEquals(ByteString.EMPTY, t.value());
        assertFalse(LwwRegister.of(ByteString.EMPTY, 5, "a").deleted());
        assertFalse(t.equals(LwwRegister.of(ByteString.EMPTY, 5, "a")));
    }

    @Test
    void equalRegistersEncodeIdentically() {
        LwwRegister a = LwwRegister.of(ByteString.copyFromUtf8("v"), Hlc.of(1_700_000_000_000L, 3), "node-1");
        LwwRegister b = LwwRegister.fromBytes(a.toBytes());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(a.toBytes(), b.toBytes());
        assertEquals("LwwRegister{\"v\" at 2023-11-14T22:13:20.000Z+3 by node-1}", a.toString());
    }

    @Test
    void badBytesAreRejectedWithTheReason() {
        assertRejected(bytes(0xff, 0xff, 0xff), "not a valid LwwRegisterState");
        assertRejected(ByteString.EMPTY, "names no node");
        assertRejected(LwwRegisterState.newBuilder().setNode("a").setDeleted(true)
                .setValue(ByteString.copyFromUtf8("zombie")).build().toByteString(), "tombstone");
        assertThrows(IllegalArgumentException.class, () -> LwwRegister.of(ByteString.EMPTY, 1, ""));
    }

    private static void assertRejected(ByteString bytes, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LwwRegister.fromBytes(bytes));
        assertTrue(e.getMessage().contains(reason), () -> "message '" + e.getMessage() + "' lacks '" + reason + "'");
    }

    private static ByteString bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return ByteString.copyFrom(b);
    }
}
