package io.smalti.ring.claim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.smalti.ring.Ring;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Property tests of the claim: random sequences of joins and leaves (one at a time, and several in one
 * membership change) over cluster sizes 1..64 and ring sizes 8..1024, checking after every claim that
 * it is (a) balanced, (b) moves at most 1.1 x the minimum, (c) safe: every preference list holds
 * min(N, owners) distinct nodes, and (d) even: when Q >= 16 x nodes, every node's preference-list slots
 * are within 15% of the mean. Seeds are fixed, so a failure names a reproducible case.
 */
class ClaimPropertyTest {
    private static final int SEQUENCES = 6;
    private static final int STEPS = 160;
    private static final double LOAD_TOLERANCE = 0.15;

    enum Walk { ONE_AT_A_TIME, SEVERAL_AT_ONCE, GROW_THEN_SHRINK }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int n : new int[] {3, 2, 5}) {
            for (int q = 8; q <= 1024; q *= 2) {
                for (Walk w : Walk.values()) {
                    if (n <= q / 2) {
                        out.add(Arguments.of(q, n, w));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "Q={0} N={1} {2}")
    @MethodSource("cases")
    void claimIsBalancedMinimalSafeAndEven(int q, int n, Walk walk) {
        double worst = 0;
        String worstCase = "none checked";
        for (int seq = 0; seq < SEQUENCES; seq++) {
            long seed = seq * 7919L + q * 31L + n * 7L + walk.ordinal();
            Random rnd = new Random(seed);
            List<String> members = new ArrayList<>(List.of("node-0"));
            int nextName = 1;
            String[] owners = Claim.claim(null, q, members, n).owners();
            check(q, n, owners, members, "seed " + seed + " initial");
            for (int step = 0; step < STEPS; step++) {
                int before = members.size();
                nextName = change(walk, step, rnd, members, nextName);
                String where = "seed " + seed + " step " + step + " (" + before + " -> " + members.size() + " nodes)";
                Claim.Result r = Claim.claim(owners, q, members, n);
                // (b) movement
                if (r.moved() > Math.floor(1.1 * r.minimumMoves())) {
                    fail(where + ": moved " + r.moved() + " vnodes, minimum " + r.minimumMoves());
                }
                assertEquals(moved(owners, r.owners()), r.moved(), where + ": reported moves");
                owners = r.owners();
                double dev = check(q, n, owners, members, where);
                if (dev > worst) {
                    worst = dev;
                    worstCase = where;
                }
            }
        }
        System.out.printf("claim Q=%d N=%d %s: worst replica-load deviation %.1f%% at %s%n",
                q, n, walk, worst * 100, worstCase);
    }

    private static int change(Walk walk, int step, Random rnd, List<String> members, int nextName) {
        switch (walk) {
            case ONE_AT_A_TIME -> {
                boolean join = members.size() == 1 || (members.size() < 64 && rnd.nextDouble() < 0.55);
                if (join) {
                    members.add("node-" + nextName++);
                } else {
                    members.remove(rnd.nextInt(members.size()));
                }
            }
            case SEVERAL_AT_ONCE -> {
                int joins = rnd.nextInt(4);
                int leaves = rnd.nextInt(3);
                for (int j = 0; j < joins && members.size() < 64; j++) {
                    members.add("node-" + nextName++);
                }
                for (int j = 0; j < leaves && members.size() > 1; j++) {
                    members.remove(rnd.nextInt(members.size()));
                }
                if (joins == 0 && leaves == 0) {
                    members.add("node-" + nextName++);
                }
            }
            case GROW_THEN_SHRINK -> {
                boolean up = (step / 63) % 2 == 0;
                if ((up && members.size() < 64) || members.size() == 1) {
                    members.add("node-" + nextName++);
                } else {
                    members.remove(rnd.nextInt(members.size()));
                }
            }
        }
        return nextName;
    }

    /** Asserts (a), (c) and, where it applies, (d); returns the replica-load deviation (0 if not checked). */
    static double check(int q, int n, String[] owners, List<String> members, String where) {
        Ring ring = Ring.of(1, n, owners, "test", 0);
        Map<String, Integer> counts = ring.vnodeCounts();
        int m = members.size();
        // (a) balanced: every member owns floor(Q/m) or ceil(Q/m) vnodes (0 or 1 when m > Q)
        for (String member : members) {
            int c = counts.getOrDefault(member, 0);
            if (c < q / m || c > (q + m - 1) / m) {
                fail(where + ": " + member + " owns " + c + " vnodes; counts " + counts);
            }
        }
        assertTrue(members.containsAll(counts.keySet()), where + ": a departed node still owns vnodes");
        // (c) safe: N distinct nodes in every preference list when at least N nodes own vnodes
        int want = Math.min(n, counts.size());
        for (int v = 0; v < q; v++) {
            List<String> nodes = ring.preferenceList(v).nodes();
            if (nodes.size() != want || new HashSet<>(nodes).size() != want) {
                fail(where + ": preference list of vnode " + v + " is " + nodes + ", want " + want + " distinct");
            }
        }
        // (d) even replica load
        if (q < 16 * m) {
            return 0;
        }
        double mean = (double) q * Math.min(n, m) / m;
        double worst = 0;
        for (Map.Entry<String, Integer> e : ring.replicaLoad().entrySet()) {
            double dev = Math.abs(e.getValue() - mean) / mean;
            if (dev > LOAD_TOLERANCE) {
                fail(String.format("%s: %s holds %d preference-list slots, mean %.1f (%.1f%% off); loads %s",
                        where, e.getKey(), e.getValue(), mean, dev * 100, ring.replicaLoad()));
            }
            worst = Math.max(worst, dev);
        }
        return worst;
    }

    private static int moved(String[] before, String[] after) {
        int moved = 0;
        for (int v = 0; v < before.length; v++) {
            if (!before[v].equals(after[v])) {
                moved++;
            }
        }
        return moved;
    }
}
