package io.smalti.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.ring.PreferenceList.Replica;
import io.smalti.ring.PreferenceList.Role;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RingTest {
    private static final String[] ABCD8 = {"a", "b", "c", "d", "a", "b", "c", "d"};

    @Test
    void idsMapToTheVnodeOfTheirTopBits() {
        Ring ring = Ring.of(3, 3, ABCD8, "a", 0);
        Id id = Id.of(0b101 << 13, Category.GROUP, 0, 1, 1);
        assertEquals(5, ring.vnodeOf(id));
        assertEquals("b", ring.preferenceList(id).primary().node());
    }

    @Test
    void preferenceListWalksClockwiseAndWraps() {
        Ring ring = Ring.of(1, 3, ABCD8, "a", 0);
        PreferenceList p = ring.preferenceList(6);
        assertEquals(List.of("c", "d", "a"), p.nodes());
        assertEquals(List.of(6, 7, 0), p.replicas().stream().map(Replica::vnode).toList());
        assertEquals(Role.PRIMARY, p.primary().role());
        assertEquals(2, p.alternates().size());
    }

    @Test
    void preferenceListSkipsVnodesOfNodesAlreadyInIt() {
        String[] owners = {"a", "a", "b", "b", "a", "c", "c", "b"};
        Ring ring = Ring.of(1, 3, owners, "a", 0);
        assertEquals(List.of("a", "b", "c"), ring.preferenceList(0).nodes());
        assertEquals(List.of(0, 2, 5), ring.preferenceList(0).replicas().stream().map(Replica::vnode).toList());
        assertEquals(List.of("b", "a", "c"), ring.preferenceList(7).nodes()); // wraps past 0 and 1
    }

    @Test
    void fewerNodesThanReplicasGivesEveryNodeOnce() {
        Ring ring = Ring.of(1, 3, new String[] {"a", "b", "a", "b", "a", "b", "a", "b"}, "a", 0);
        assertEquals(List.of("b", "a"), ring.preferenceList(3).nodes());
    }

    @Test
    void fallbacksStandInForDownNodes() {
        Ring ring = Ring.of(1, 3, ABCD8, "a", 0);
        PreferenceList p = ring.preferenceList(0).withFallbacks(Set.of("b"));
        assertEquals(List.of("a", "c", "d"), p.nodes());
        Replica fallback = p.fallbacks().get(0);
        assertEquals("d", fallback.node());
        assertEquals("b", fallback.standsInFor());
        assertEquals(3, fallback.vnode());

        PreferenceList primaryDown = ring.preferenceList(0).withFallbacks(Set.of("a"));
        assertNull(primaryDown.primary());
        assertEquals(List.of("b", "c", "d"), primaryDown.nodes());
        assertEquals("a", primaryDown.fallbacks().get(0).standsInFor());

        assertSame(ring.preferenceList(0), ring.preferenceList(0).withFallbacks(Set.of("x")));
        PreferenceList tooFew = ring.preferenceList(0).withFallbacks(Set.of("b", "c"));
        assertEquals(List.of("a", "d"), tooFew.nodes()); // only two healthy nodes remain
    }

    @Test
    void countsAndReplicaLoad() {
        Ring ring = Ring.of(1, 3, ABCD8, "a", 0);
        assertEquals(Map.of("a", 2, "b", 2, "c", 2, "d", 2), ring.vnodeCounts());
        assertEquals(Map.of("a", 6, "b", 6, "c", 6, "d", 6), ring.replicaLoad());
        assertEquals(List.of(0, 4), ring.vnodesByNode().get("a"));
    }

    @Test
    void ownershipComparisonIgnoresEpoch() {
        Ring r1 = Ring.of(1, 3, ABCD8, "a", 0);
        Ring r2 = Ring.of(2, 3, ABCD8, "b", 5);
        assertTrue(r1.sameOwnership(r2));
        assertEquals(List.of(), r1.movedVnodes(r2));
        String[] other = ABCD8.clone();
        other[3] = "a";
        assertEquals(List.of(3), r1.movedVnodes(Ring.of(3, 3, other, "a", 0)));
    }

    @Test
    void badRingsAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Ring.of(1, 3, new String[12], "a", 0))
                .getMessage().contains("power of two from 8 to 4096, got 12"));
        String[] missing = ABCD8.clone();
        missing[2] = null;
        assertEquals("vnode 2 has no owner",
                assertThrows(IllegalArgumentException.class, () -> Ring.of(1, 3, missing, "a", 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Ring.of(1, 3, ABCD8, "a", 0).owner(8))
                .getMessage().contains("vnode must be 0..7"));
    }
}
