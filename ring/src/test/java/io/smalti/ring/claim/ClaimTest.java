package io.smalti.ring.claim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.ring.Ring;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClaimTest {

    @Test
    void newRingIsLaidOutRoundRobin() {
        String[] owners = Claim.claim(null, 16, List.of("a", "b", "c", "d"), 3).owners();
        assertEquals("[a, b, c, d, a, b, c, d, a, b, c, d, a, b, c, d]", Arrays.toString(owners));
    }

    @Test
    void unchangedMembershipMovesNothing() {
        String[] owners = Claim.claim(null, 64, List.of("a", "b", "c"), 3).owners();
        Claim.Result again = Claim.claim(owners, 64, List.of("c", "b", "a"), 3);
        assertArrayEquals(owners, again.owners());
        assertEquals(0, again.moved());
        assertEquals(0, again.minimumMoves());
    }

    @Test
    void joinTakesOnlyTheNewNodesShare() {
        String[] three = Claim.claim(null, 64, List.of("a", "b", "c"), 3).owners();
        Claim.Result four = Claim.claim(three, 64, List.of("a", "b", "c", "d"), 3);
        assertEquals(16, four.minimumMoves());
        assertEquals(16, four.moved());
        for (int v = 0; v < 64; v++) {
            assertTrue(four.owners()[v].equals(three[v]) || four.owners()[v].equals("d"), "only d gains vnodes");
        }
        ClaimPropertyTest.check(64, 3, four.owners(), List.of("a", "b", "c", "d"), "join");
    }

    @Test
    void leaveMovesOnlyTheDepartedNodesVnodes() {
        String[] four = Claim.claim(null, 64, List.of("a", "b", "c", "d"), 3).owners();
        Claim.Result three = Claim.claim(four, 64, List.of("a", "b", "d"), 3);
        assertEquals(16, three.moved());
        for (int v = 0; v < 64; v++) {
            if (!four[v].equals("c")) {
                assertEquals(four[v], three.owners()[v], "vnode " + v + " of a surviving node stayed");
            }
        }
    }

    @Test
    void moreNodesThanVnodesGivesZeroOrOneEach() {
        List<String> members = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            members.add("n" + i);
        }
        String[] owners = Claim.claim(null, 8, members, 3).owners();
        Map<String, Integer> counts = Ring.of(1, 3, owners, "", 0).vnodeCounts();
        assertEquals(8, counts.size());
        assertTrue(counts.values().stream().allMatch(c -> c == 1));
        // a further join needs no movement: the ring is already balanced
        members.add("n20");
        assertEquals(0, Claim.claim(owners, 8, members, 3).moved());
    }

    @Test
    void claimIsDeterministic() {
        String[] base = Claim.claim(null, 256, List.of("a", "b", "c", "d", "e"), 3).owners();
        List<String> next = List.of("a", "b", "d", "e", "f", "g");
        assertArrayEquals(Claim.claim(base, 256, next, 3).owners(), Claim.claim(base, 256, next, 3).owners());
    }

    @Test
    void minimumMovesPrefersTheLargestOwnersForTheExtraVnode() {
        // a owns 5, b owns 3 of 8; balanced is 4/4: one vnode must move, not more
        String[] owners = {"a", "a", "a", "a", "a", "b", "b", "b"};
        Claim.Result r = Claim.claim(owners, 8, List.of("a", "b"), 2);
        assertEquals(1, r.minimumMoves());
        assertEquals(1, r.moved());
    }

    @Test
    void badInputIsRefusedWithAReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Claim.claim(null, 100, List.of("a"), 3))
                .getMessage().contains("power of two"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Claim.claim(null, 64, List.of(), 3))
                .getMessage().contains("at least one member"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Claim.claim(new String[8], 16, List.of("a"), 3))
                .getMessage().contains("has 8 vnodes, expected 16"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Claim.claim(null, 8, List.of("a"), 5))
                .getMessage().contains("replicas must be from 1 to 4"));
    }
}
