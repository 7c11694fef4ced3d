package io.smalti.component.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.component.scheduling.Scheduler.Candidate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Where new instances go: spread, memory fit, nodes that take none, ties, and the explanation when none fits. */
class SchedulerTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    private static Candidate node(String name, long memBytes) {
        return new Candidate(name, true, memBytes, 4, 0.0, 0, 0);
    }

    private static Candidate node(String name, long memBytes, int instances, int ofType) {
        return new Candidate(name, true, memBytes, 4, 0.0, instances, ofType);
    }

    private static List<String> placeAll(Scheduler s, int count, long memBytes) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(s.place(memBytes).orElse("-"));
        }
        return out;
    }

    @Test
    void spreadsOneTypeAcrossNodes() {
        Scheduler s = new Scheduler(List.of(node("a", 8 * GIB), node("b", 8 * GIB), node("c", 8 * GIB)));
        List<String> placed = placeAll(s, 3, 256 * MIB);
        List<String> sorted = new ArrayList<>(placed);
        Collections.sort(sorted);
        assertEquals(List.of("a", "b", "c"), sorted, "one each: " + placed);
        // and the next three go round again, one each
        List<String> more = new ArrayList<>(placeAll(s, 3, 256 * MIB));
        Collections.sort(more);
        assertEquals(List.of("a", "b", "c"), more);
    }

    @Test
    void spreadsEvenWhenANodeHasMuchMoreMemory() {
        Scheduler s = new Scheduler(List.of(node("small", 2 * GIB), node("big", 64 * GIB), node("mid", 4 * GIB)));
        List<String> placed = new ArrayList<>(placeAll(s, 3, 256 * MIB));
        Collections.sort(placed);
        assertEquals(List.of("big", "mid", "small"), placed);
    }

    @Test
    void instancesOfTheTypeAlreadyRunningCountFirst() {
        // b already runs two of this type, a one, c none: c, then a and c tie on the type...
        Scheduler s = new Scheduler(List.of(node("a", 8 * GIB, 1, 1), node("b", 8 * GIB, 2, 2), node("c", 8 * GIB, 5, 0)));
        assertEquals(Optional.of("c"), s.place(MIB), "fewest of the type, though it runs most instances overall");
        // a: 1 of type, 1 in all; c: 1 of type, 6 in all -> a
        assertEquals(Optional.of("a"), s.place(MIB), "then the fewest instances in all");
    }

    @Test
    void promisedMemoryCountsWithinARound() {
        Scheduler s = new Scheduler(List.of(node("only", GIB)));
        assertEquals(Optional.of("only"), s.place(400 * MIB));
        assertEquals(Optional.of("only"), s.place(400 * MIB));
        assertEquals(Optional.empty(), s.place(400 * MIB), "800 MiB promised; 224 MiB left is too little");
        assertEquals(Optional.of("only"), s.place(200 * MIB), "a smaller one still fits");
        assertTrue(s.whyNot(400 * MIB).contains("only: 24 MiB free < 400 MiB needed"), s.whyNot(400 * MIB));
    }

    @Test
    void memoryMustFitAndFullNodesAreSkipped() {
        Scheduler s = new Scheduler(List.of(node("tiny", 100 * MIB), node("roomy", 2 * GIB)));
        assertEquals(List.of("roomy", "roomy", "roomy"), placeAll(s, 3, 512 * MIB),
                "the node with too little memory is never chosen, even though it has fewer instances");
        assertEquals(Optional.of("tiny"), s.place(50 * MIB), "but it takes what fits");
    }

    @Test
    void exactFitIsAFit() {
        Scheduler s = new Scheduler(List.of(node("n", 512 * MIB)));
        assertEquals(Optional.of("n"), s.place(512 * MIB));
        assertEquals(Optional.empty(), s.place(1));
    }

    @Test
    void nodesThatTakeNoInstancesAreSkipped() {
        Scheduler s = new Scheduler(List.of(new Candidate("drained", false, 64 * GIB, 16, 0.0, 0, 0),
                node("busy", GIB, 10, 3)));
        assertEquals(List.of("busy", "busy"), placeAll(s, 2, 256 * MIB));
        Scheduler none = new Scheduler(List.of(new Candidate("drained", false, 64 * GIB, 16, 0.0, 0, 0)));
        assertEquals(Optional.empty(), none.place(MIB));
    }

    @Test
    void tiesAreBrokenByFreeMemoryThenName() {
        Scheduler s = new Scheduler(List.of(node("b", 4 * GIB), node("a", 4 * GIB), node("c", 8 * GIB)));
        assertEquals(Optional.of("c"), s.place(MIB), "equal counts: the most free memory");
        assertEquals(Optional.of("a"), s.place(MIB), "equal counts and memory: the first name");
        assertEquals(Optional.of("b"), s.place(MIB));
        // the same candidates in any order give the same choices
        for (int run = 0; run < 10; run++) {
            List<Candidate> shuffled = new ArrayList<>(List.of(node("x2", GIB), node("x1", GIB), node("x3", GIB)));
            Collections.shuffle(shuffled);
            assertEquals(List.of("x1", "x2", "x3", "x1"), placeAll(new Scheduler(shuffled), 4, MIB), shuffled.toString());
        }
    }

    @Test
    void whyNotNamesEachNodesReasonInNameOrder() {
        Scheduler s = new Scheduler(List.of(node("n3", 8 * GIB),
                new Candidate("n1", false, 8 * GIB, 4, 0.0, 0, 0), node("n2", 100 * MIB)));
        assertEquals("n1: takes no instances; n2: 100 MiB free < 256 MiB needed; n3: fits", s.whyNot(256 * MIB));
    }

    @Test
    void whyNotWithoutNodes() {
        Scheduler s = new Scheduler(List.of());
        assertEquals(Optional.empty(), s.place(MIB));
        assertEquals("no node is available", s.whyNot(MIB));
    }

    @Test
    void aCandidateListedTwiceCountsOnce() {
        Scheduler s = new Scheduler(List.of(node("a", GIB), node("a", GIB)));
        TreeMap<String, Integer> counts = new TreeMap<>();
        placeAll(s, 2, 512 * MIB).forEach(n -> counts.merge(n, 1, Integer::sum));
        assertEquals(Optional.empty(), s.place(512 * MIB), "one node's memory, not two");
        assertEquals(Map.of("a", 2), counts);
    }
}
