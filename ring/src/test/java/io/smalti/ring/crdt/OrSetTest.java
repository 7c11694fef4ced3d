package io.smalti.ring.crdt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.protocol.crdt.CausalContext;
import io.smalti.protocol.crdt.Dot;
import io.smalti.protocol.crdt.OrSetEntry;
import io.smalti.protocol.crdt.OrSetState;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class OrSetTest {
    private static final ByteString X = utf8("x");
    private static final ByteString Y = utf8("y");
    private static final ByteString[] ALPHABET = {X, Y, utf8("z"), ByteString.copyFrom(new byte[] {0, (byte) 0xff})};
    private static final CrdtLaws<OrSet> LAWS = new CrdtLaws<>(OrSet::merge, OrSet::toBytes, OrSet::fromBytes);

    private record History(List<OrSet> replicas, List<OrSet> states) {}

    /** 3-5 replicas add and remove a four-element alphabet, merging random pairs in between. */
    private static History simulate(Random rnd) {
        int n = 3 + rnd.nextInt(3);
        List<OrSet> replicas = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            replicas.add(OrSet.empty());
        }
        List<OrSet> states = new ArrayList<>(List.of(OrSet.empty()));
        for (int step = 0; step < 80; step++) {
            int i = rnd.nextInt(n);
            OrSet r = replicas.get(i);
            ByteString e = ALPHABET[rnd.nextInt(ALPHABET.length)];
            int op = rnd.nextInt(10);
            OrSet next = op < 4 ? r.add("n" + i, e) : op < 7 ? r.remove(e) : r.merge(replicas.get(rnd.nextInt(n)));
            replicas.set(i, next);
            states.add(next);
        }
        return new History(replicas, states);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("io.smalti.ring.crdt.CrdtLaws#seeds")
    void mergeIsCommutativeAssociativeAndIdempotent(long seed) {
        Random rnd = new Random(seed);
        List<OrSet> states = simulate(rnd).states();
        LAWS.assertLaws(states, rnd, seed);
        LAWS.assertRoundTrips(states, seed);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("io.smalti.ring.crdt.CrdtLaws#seeds")
    void replicasReceivingTheSameStatesInAnyOrderConverge(long seed) {
        Random rnd = new Random(seed);
        History h = simulate(rnd);
        OrSet converged = LAWS.assertConvergence(h.replicas(), h.states(), rnd, seed);
        // Merging is a join, so the result absorbs every state it was built from.
        for (OrSet s : h.states()) {
            assertEquals(converged, converged.merge(s), () -> "seed " + seed + ": " + s + " not absorbed");
        }
    }

    @Test
    void addThenRemoveLeavesTheElementAbsent() {
        OrSet s = OrSet.empty().add("a", X).add("a", Y).remove(X);
        assertFalse(s.contains(X));
        assertEquals(Set.of(Y), s.elements());
        assertEquals(1, s.size());
        assertTrue(s.remove(Y).isEmpty());
    }

    @Test
    void concurrentAddWinsOverRemove() {
        OrSet a = OrSet.empty().add("a", X);
        OrSet b = OrSet.empty().merge(a).remove(X); // b observed the first add only
        a = a.add("a", X);
        assertTrue(a.merge(b).contains(X));
        assertTrue(b.merge(a).contains(X));
    }

    @Test
    void removeWinsOverAnObservedAdd() {
        OrSet a = OrSet.empty().add("a", X);
        OrSet b = OrSet.empty().merge(a).remove(X);
        assertFalse(a.merge(b).contains(X));
        assertFalse(b.merge(a).contains(X));
    }

    @Test
    void removeOnlyRemovesWhatWasObserved() {
        OrSet a = OrSet.empty().add("a", X);
        OrSet b = OrSet.empty().add("b", X).remove(X); // never saw a's add
        assertTrue(a.merge(b).contains(X));
        OrSet c = OrSet.empty().add("c", Y);
        assertSame(c, c.remove(X));
    }

    @Test
    void reAddAfterRemoveIsPresentEverywhere() {
        OrSet a = OrSet.empty().add("a", X).remove(X);
        OrSet b = OrSet.empty().merge(a);
        a = a.add("a", X);
        assertTrue(a.contains(X));
        assertTrue(b.merge(a).contains(X));
        assertTrue(a.merge(b).contains(X));
    }

    @Test
    void concurrentAddsKeepOneDotPerNode() {
        OrSet a = OrSet.empty().add("a", X);
        OrSet b = OrSet.empty().add("b", X);
        OrSet both = a.merge(b);
        assertEquals("OrSet{\"x\"[a:1, b:1] | a:1 b:1}", both.toString());
        assertEquals("OrSet{\"x\"[a:2] | a:2 b:1}", both.add("a", X).toString());
    }

    @Test
    void churnLeavesNoTombstones() {
        OrSet a = OrSet.empty();
        OrSet b = OrSet.empty();
        List<ByteString> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ten.add(utf8("element-" + i));
        }
        int fullSize = 0;
        for (int cycle = 0; cycle < 10_000; cycle++) {
            OrSet r = cycle % 2 == 0 ? a : b;
            String node = cycle % 2 == 0 ? "a" : "b";
            for (ByteString e : ten) {
                r = r.add(node, e);
            }
            fullSize = Math.max(fullSize, r.toBytes().size());
            for (ByteString e : ten) {
                r = r.remove(e);
            }
            if (cycle % 2 == 0) {
                a = r;
            } else {
                b = r;
            }
            if (cycle % 7 == 0) {
                a = a.merge(b);
                b = b.merge(a);
            }
        }
        OrSet merged = a.merge(b);
        assertTrue(merged.isEmpty());
        assertEquals("OrSet{ | a:50000 b:50000}", merged.toString());
        assertTrue(merged.toBytes().size() < 24, () -> "empty set encodes in " + merged.toBytes().size() + " bytes");
        int full = fullSize;
        assertTrue(full < 300, () -> "ten elements encode in " + full + " bytes");
    }

    @Test
    void dotCloudCompactsIntoTheVersionVector() {
        OrSetState state = OrSetState.newBuilder()
                .addEntries(OrSetEntry.newBuilder().setElement(X).addDots(dot("a", 4)))
                .setContext(CausalContext.newBuilder()
                        .addDotCloud(dot("a", 4)).addDotCloud(dot("a", 2)).addDotCloud(dot("a", 1)))
                .build();
        OrSet s = OrSet.fromBytes(state.toByteString());
        assertEquals("OrSet{\"x\"[a:4] | a:2 cloud[a:4]}", s.toString());
        assertEquals("OrSet{\"x\"[a:4], \"y\"[a:5] | a:2 cloud[a:4, a:5]}", s.add("a", Y).toString());
        OrSet filled = s.merge(OrSet.fromBytes(OrSetState.newBuilder()
                .setContext(CausalContext.newBuilder().addVersionVector(dot("a", 3))).build().toByteString()));
        assertEquals("OrSet{\"x\"[a:4] | a:4}", filled.toString());
    }

    @Test
    void encodingIsCanonical() throws Exception {
        OrSet a = OrSet.empty().add("b", Y).add("b", X);
        OrSet b = OrSet.empty().add("a", X).add("a", ALPHABET[3]).remove(X);
        OrSet ab = a.merge(b);
        OrSet decoded = OrSet.fromBytes(ab.toBytes());
        assertEquals(ab, decoded);
        assertEquals(ab.hashCode(), decoded.hashCode());
        assertEquals(ab.toBytes(), b.merge(a).toBytes());
        // Elements sort by unsigned bytes: 0x00ff before "x" before "y".
        assertEquals(List.of(ALPHABET[3], X, Y), new ArrayList<>(ab.elements()));
        assertEquals(List.of(ALPHABET[3], X, Y),
                OrSetState.parseFrom(ab.toBytes()).getEntriesList().stream().map(OrSetEntry::getElement).toList());
        assertThrows(UnsupportedOperationException.class, () -> ab.elements().add(Y));
    }

    @Test
    void badBytesAreRejectedWithTheReason() {
        CausalContext.Builder context = CausalContext.newBuilder().addVersionVector(dot("a", 2));
        assertRejected(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}),
                "not a valid OrSetState");
        assertRejected(state(context, OrSetEntry.newBuilder().setElement(X)), "element \"x\" has no dots");
        assertRejected(state(context, OrSetEntry.newBuilder().setElement(X).addDots(dot("a", 3))),
                "dot a:3 outside the causal context");
        assertRejected(state(context, OrSetEntry.newBuilder().setElement(X).addDots(dot("a", 1)),
                OrSetEntry.newBuilder().setElement(X).addDots(dot("a", 2))), "lists element \"x\" twice");
        assertRejected(state(context, OrSetEntry.newBuilder().setElement(X).addDots(dot("a", 1)),
                OrSetEntry.newBuilder().setElement(Y).addDots(dot("a", 1))), "dot a:1 tags both \"x\" and \"y\"");
        assertRejected(state(CausalContext.newBuilder().addVersionVector(dot("a", 0))), "counters must be");
        assertRejected(state(CausalContext.newBuilder().addDotCloud(dot("", 1))), "dot with no node");
        assertRejected(state(CausalContext.newBuilder().addVersionVector(dot("a", 1)).addVersionVector(dot("a", 2))),
                "lists node a twice");
        assertThrows(IllegalArgumentException.class, () -> OrSet.empty().add("", X));
    }

    private static ByteString state(CausalContext.Builder context, OrSetEntry.Builder... entries) {
        OrSetState.Builder b = OrSetState.newBuilder().setContext(context);
        for (OrSetEntry.Builder e : entries) {
            b.addEntries(e);
        }
        return b.build().toByteString();
    }

    private static void assertRejected(ByteString bytes, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OrSet.fromBytes(bytes));
        assertTrue(e.getMessage().contains(reason), () -> "message '" + e.getMessage() + "' lacks '" + reason + "'");
    }

    private static Dot dot(String node, long counter) {
        return Dot.newBuilder().setNode(node).setCounter(counter).build();
    }

    private static ByteString utf8(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
