package io.smalti.ring.claim;

import io.smalti.ring.Ring;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The claim: which node owns each vnode, given the previous owners and the current members.
 *
 * <p>Guarantees, for any input:
 * <ul>
 *   <li><b>balanced</b>: members' vnode counts differ by at most one;
 *   <li><b>minimal movement</b>: exactly the minimum number of vnodes change owner. The nodes that
 *       already own the most keep the larger share, so only surplus vnodes and the vnodes of departed
 *       nodes move;
 *   <li><b>deterministic</b>: the same input gives the same output, on any node.
 * </ul>
 * Within those constraints the claim chooses <em>which</em> vnodes move, and to whom, so that each
 * node's vnodes are spread around the ring: no two vnodes of one node closer than N where it can be
 * avoided, and preference-list slots (replica load) per node close to N times its vnode count. It first
 * builds a placement greedily, then improves it by local search over exchanges that keep the movement
 * and balance unchanged (swapping the receivers of two moved vnodes, or letting a donor give up a
 * different vnode).
 *
 * <p>Stateless; safe to call from any thread.
 */
public final class Claim {

    /**
     * The outcome of a claim.
     *
     * @param owners the owner of each vnode
     * @param moved how many previously owned vnodes changed owner
     * @param minimumMoves the fewest vnodes that any balanced result must move
     */
    public record Result(String[] owners, int moved, int minimumMoves) {}

    private Claim() {}

    /**
     * Computes the next ownership.
     *
     * @param current the owner of each vnode in the last ring (entries may name nodes that are no longer
     *     members), or null for a new ring of {@code size} vnodes
     * @param size Q; must equal {@code current.length} when current is given
     * @param members the nodes that should own vnodes; at least one
     * @param replicas N, used to judge how well vnodes are spread
     */
    public static Result claim(String[] current, int size, Collection<String> members, int replicas) {
        Ring.checkSize(size);
        Ring.checkReplicas(replicas, size);
        if (current != null && current.length != size) {
            throw new IllegalArgumentException("current ring has " + current.length + " vnodes, expected " + size);
        }
        Objects.requireNonNull(members, "members");
        TreeSet<String> sorted = new TreeSet<>();
        for (String m : members) {
            if (m == null || m.isEmpty()) {
                throw new IllegalArgumentException("member names must be non-empty");
            }
            sorted.add(m);
        }
        if (sorted.isEmpty()) {
            throw new IllegalArgumentException("a claim needs at least one member");
        }
        String[] names = sorted.toArray(new String[0]);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < names.length; i++) {
            index.put(names[i], i);
        }
        int[] owner = new int[size];
        for (int v = 0; v < size; v++) {
            Integer i = current == null ? null : index.get(current[v]);
            owner[v] = i == null ? -1 : i;
        }
        long seed = seed(current, names);
        int[] next = new Placement(owner, names.length, replicas, seed).run();
        String[] out = new String[size];
        int moved = 0;
        for (int v = 0; v < size; v++) {
            out[v] = names[next[v]];
            if (current != null && current[v] != null && !current[v].equals(out[v])) {
                moved++;
            }
        }
        return new Result(out, moved, minimumMoves(current, size, names, index));
    }

    /** The fewest vnodes any balanced claim for these members must move away from their owners. */
    static int minimumMoves(String[] current, int size, String[] names, Map<String, Integer> index) {
        if (current == null) {
            return 0;
        }
        int m = names.length;
        int[] counts = new int[m];
        int departed = 0;
        for (String o : current) {
            Integer i = o == null ? null : index.get(o);
            if (i != null) {
                counts[i]++;
            } else if (o != null) {
                departed++;
            }
        }
        int[] targets = targets(counts, size);
        int surplus = 0;
        for (int i = 0; i < m; i++) {
            surplus += Math.max(0, counts[i] - targets[i]);
        }
        return departed + surplus;
    }

    /**
     * Balanced vnode targets: every member gets floor(Q/m); the Q mod m members that own most now (ties
     * by name order) get one more. Giving the extra vnode to the largest owners minimizes movement.
     */
    static int[] targets(int[] counts, int size) {
        int m = counts.length;
        int base = size / m;
        int extra = size % m;
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> counts[a] != counts[b] ? Integer.compare(counts[b], counts[a]) : Integer.compare(a, b));
        int[] targets = new int[m];
        for (int k = 0; k < m; k++) {
            targets[order[k]] = base + (k < extra ? 1 : 0);
        }
        return targets;
    }

    private static long seed(String[] current, String[] names) {
        long h = 0x9E3779B97F4A7C15L;
        if (current != null) {
            for (String o : current) {
                h = h * 31 + (o == null ? 0 : o.hashCode());
            }
        }
        for (String n : names) {
            h = h * 1_000_003 + n.hashCode();
        }
        return h;
    }

    /** Mutable working state of one claim; confined to the calling thread. */
    static final class Placement {
        private final int q;
        private final int mask;
        private final int m;
        /** Preference-list length the loads are judged by: N, or every member when fewer than N. */
        private final int listLen;
        /** Two vnodes of one node closer than this count as crowded. */
        private final int window;
        private final int[] owner;
        private final int[] original;
        private final int[] counts;
        private final int[] targets;
        private final SplittableRandom random;

        // Local search state: preference lists and loads, maintained incrementally.
        private int[][] lists;
        private int[] walk;       // positions examined by each vnode's walk
        private int maxWalk;
        private long[] load;
        private long deviation;   // sum over members of (load - listLen * count)^2
        private long crowding;    // sum over crowded same-owner pairs of (window - distance)
        private final int[] seenStamp;
        private int stamp;
        private static final int SAMPLE = 48;

        Placement(int[] owner, int members, int replicas, long seed) {
            this.q = owner.length;
            this.mask = q - 1;
            this.m = members;
            this.listLen = Math.min(replicas, members);
            this.window = Math.min(replicas, members);
            this.owner = owner;
            this.original = owner.clone();
            this.counts = new int[m];
            for (int o : owner) {
                if (o >= 0) {
                    counts[o]++;
                }
            }
            this.targets = targets(counts, q);
            this.random = new SplittableRandom(seed);
            this.seenStamp = new int[m];
        }

        int[] run() {
            int[] deficit = new int[m];
            int[] surplus = new int[m];
            boolean change = false;
            for (int i = 0; i < m; i++) {
                deficit[i] = Math.max(0, targets[i] - counts[i]);
                surplus[i] = Math.max(0, counts[i] - targets[i]);
                change |= deficit[i] > 0;
            }
            if (!change) {
                return owner; // balanced already: nothing may move
            }
            List<Integer> moved = new ArrayList<>();
            fillUnowned(deficit, moved);
            takeFromDonors(deficit, surplus, moved);
            improve(moved);
            return owner;
        }

        /**
         * Gives every unowned vnode (never owned, or owned by a departed node) to a receiver, walking the
         * ring in order: the receiver that crowds least, then the one still missing most, then the one that
         * received longest ago. From an empty ring this lays members out round-robin.
         */
        private void fillUnowned(int[] deficit, List<Integer> moved) {
            int[] lastGiven = new int[m];
            Arrays.fill(lastGiven, -1);
            for (int v = 0; v < q; v++) {
                if (owner[v] >= 0) {
                    continue;
                }
                int best = -1;
                int bestCrowd = 0;
                for (int r = 0; r < m; r++) {
                    if (deficit[r] == 0) {
                        continue;
                    }
                    int crowd = crowdingAt(v, r);
                    if (best < 0 || crowd < bestCrowd
                            || (crowd == bestCrowd && (deficit[r] > deficit[best]
                                || (deficit[r] == deficit[best] && lastGiven[r] < lastGiven[best])))) {
                        best = r;
                        bestCrowd = crowd;
                    }
                }
                owner[v] = best;
                deficit[best]--;
                counts[best]++;
                lastGiven[best] = v;
                moved.add(v);
            }
        }

        /**
         * Moves surplus vnodes of over-target members to receivers still under target. Each round serves
         * the receiver missing most, with the donor vnode where it crowds least, relieves the most crowding,
         * and lies farthest from the receiver's own vnodes.
         */
        private void takeFromDonors(int[] deficit, int[] surplus, List<Integer> moved) {
            int remaining = 0;
            for (int d : deficit) {
                remaining += d;
            }
            int[] distance = new int[q];
            while (remaining > 0) {
                int r = 0;
                for (int i = 1; i < m; i++) {
                    if (deficit[i] > deficit[r]) {
                        r = i;
                    }
                }
                distancesTo(r, distance);
                int best = -1;
                long bestScore = Long.MAX_VALUE;
                for (int v = 0; v < q; v++) {
                    int o = owner[v];
                    if (surplus[o] == 0) {
                        continue;
                    }
                    long score = (long) (crowdingAt(v, r) - crowdingAt(v, o)) * 2L * q - distance[v];
                    if (score < bestScore) {
                        bestScore = score;
                        best = v;
                    }
                }
                int donor = owner[best];
                surplus[donor]--;
                counts[donor]--;
                owner[best] = r;
                counts[r]++;
                deficit[r]--;
                remaining--;
                moved.add(best);
            }
        }

        /** distance[v] = circular distance from v to the nearest vnode owned by r (q when r owns none). */
        private void distancesTo(int r, int[] distance) {
            int first = -1;
            for (int v = 0; v < q; v++) {
                if (owner[v] == r) {
                    first = v;
                    break;
                }
            }
            if (first < 0) {
                Arrays.fill(distance, q);
                return;
            }
            int d = 0;
            for (int k = 0; k < q; k++) {
                int v = (first + k) & mask;
                d = owner[v] == r ? 0 : d + 1;
                distance[v] = d;
            }
            d = 0;
            for (int k = 0; k < q; k++) {
                int v = (first - k) & mask;
                d = owner[v] == r ? 0 : d + 1;
                distance[v] = Math.min(distance[v], d);
            }
        }

        /** How crowded node {@code x} would be at v: the sum of (window - distance) over its vnodes nearer than window. */
        private int crowdingAt(int v, int x) {
            int c = 0;
            for (int d = 1; d < window; d++) {
                if (owner[(v + d) & mask] == x) {
                    c += window - d;
                }
                if (owner[(v - d) & mask] == x) {
                    c += window - d;
                }
            }
            return c;
        }

        // ---- local search ----------------------------------------------------------------------

        /**
         * Improves the placement without changing how many vnodes move or how many each member owns:
         * (a) swap the receivers of two moved vnodes; (b) let a donor keep a moved vnode and give up
         * another of its own instead. Accepts a change when it lowers the replica-load deviation, or
         * keeps it and lowers crowding.
         */
        private void improve(List<Integer> moved) {
            if (moved.isEmpty() || m < 2) {
                return;
            }
            initLoads();
            int n = moved.size();
            int[] movedArr = moved.stream().mapToInt(Integer::intValue).toArray();
            int[] candidates = new int[q];
            long budget = 400_000L; // candidate evaluations; bounds the worst case at Q=4096
            for (int pass = 0; pass < 12 && budget > 0; pass++) {
                boolean improved = false;
                for (int i = 0; i < n && budget > 0; i++) {
                    int p = movedArr[i];
                    // (a) swap receivers with another moved vnode
                    int partners = Math.min(n - 1, SAMPLE);
                    for (int s = 0; s < partners; s++) {
                        int j = n - 1 <= SAMPLE ? (i + 1 + s) % n : random.nextInt(n);
                        int p2 = movedArr[j];
                        budget--;
                        if (p2 != p && owner[p2] != owner[p] && trySwap(p, p2)) {
                            improved = true;
                        }
                    }
                    // (b) the donor of p keeps p and gives up another of its own vnodes instead
                    int donor = original[p];
                    if (donor < 0 || owner[p] == donor) {
                        continue;
                    }
                    int c = 0;
                    for (int v = 0; v < q; v++) {
                        if (owner[v] == donor && original[v] == donor) {
                            candidates[c++] = v;
                        }
                    }
                    int tries = Math.min(c, SAMPLE);
                    for (int s = 0; s < tries; s++) {
                        int v = c <= SAMPLE ? candidates[s] : candidates[random.nextInt(c)];
                        budget--;
                        if (trySwap(p, v)) {
                            movedArr[i] = v; // v is the moved vnode now; p is back with its donor
                            improved = true;
                            break;
                        }
                    }
                }
                if (!improved) {
                    break;
                }
            }
        }

        /** Exchanges the owners of a and b if that improves (deviation, crowding); returns whether it did. */
        private boolean trySwap(int a, int b) {
            long dev0 = deviation;
            long crowd0 = crowding;
            int oa = owner[a];
            int ob = owner[b];
            setOwner(a, ob);
            setOwner(b, oa);
            if (deviation < dev0 || (deviation == dev0 && crowding < crowd0)) {
                return true;
            }
            setOwner(b, ob);
            setOwner(a, oa);
            return false;
        }

        private void initLoads() {
            lists = new int[q][listLen];
            walk = new int[q];
            load = new long[m];
            maxWalk = 0;
            for (int v = 0; v < q; v++) {
                computeList(v);
                for (int x : lists[v]) {
                    load[x]++;
                }
            }
            deviation = 0;
            for (int x = 0; x < m; x++) {
                long d = load[x] - (long) listLen * counts[x];
                deviation += d * d;
            }
            crowding = 0;
            for (int v = 0; v < q; v++) {
                for (int d = 1; d < window; d++) {
                    if (owner[(v + d) & mask] == owner[v]) {
                        crowding += window - d;
                    }
                }
            }
        }

        private void computeList(int v) {
            int[] list = lists[v];
            stamp++;
            int found = 0;
            int step = 0;
            while (found < listLen) {
                int o = owner[(v + step) & mask];
                step++;
                if (seenStamp[o] != stamp) {
                    seenStamp[o] = stamp;
                    list[found++] = o;
                }
            }
            walk[v] = step;
            if (step > maxWalk) {
                maxWalk = step;
            }
        }

        /** Changes the owner of v and updates loads, deviation and crowding for the lists that saw v. */
        private void setOwner(int v, int x) {
            int old = owner[v];
            if (old == x) {
                return;
            }
            crowding -= crowdingAt(v, old);
            owner[v] = x;
            crowding += crowdingAt(v, x);
            // Walks that examined v are those starting at most maxWalk - 1 positions before it.
            int reach = maxWalk;
            for (int back = 0; back < reach; back++) {
                int w = (v - back) & mask;
                if (walk[w] <= back) {
                    continue;
                }
                for (int y : lists[w]) {
                    adjustLoad(y, -1);
                }
                computeList(w);
                for (int y : lists[w]) {
                    adjustLoad(y, +1);
                }
            }
            // A walk that did not reach v is unaffected: it stopped before v.
            counts[old]--;
            counts[x]++;
            adjustTarget(old, -1);
            adjustTarget(x, +1);
        }

        private void adjustLoad(int x, int delta) {
            long before = load[x] - (long) listLen * counts[x];
            load[x] += delta;
            long after = before + delta;
            deviation += after * after - before * before;
        }

        /** Keeps deviation right when a member's count (and so its expected load) changes. */
        private void adjustTarget(int x, int countDelta) {
            // counts[x] was already changed by countDelta; the expected load moved by listLen * countDelta.
            long after = load[x] - (long) listLen * counts[x];
            long before = after + (long) listLen * countDelta;
            deviation += after * after - before * before;
        }
    }
}
