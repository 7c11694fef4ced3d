package io.smalti.ring.crdt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class HlcTest {
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("io.smalti.ring.crdt.CrdtLaws#seeds")
    void monotonicUnderAStallingAndBackwardsWallClock(long seed) {
        Random rnd = new Random(seed);
        long[] wall = {1_700_000_000_000L};
        Hlc clock = new Hlc(() -> wall[0]);
        long previous = -1;
        for (int i = 0; i < 5_000; i++) {
            switch (rnd.nextInt(4)) {
                case 0 -> wall[0] += rnd.nextInt(5); // stalls about half the time
                case 1 -> wall[0] -= rnd.nextInt(50);
                default -> { }
            }
            long t;
            if (rnd.nextInt(3) == 0) {
                long remote = Hlc.of(wall[0] + rnd.nextInt(40) - 20, rnd.nextInt(1 << 16));
                t = clock.update(remote);
                long r = remote;
                assertTrue(t > remote, () -> "seed " + seed + ": update(" + Hlc.format(r) + ") not after it");
            } else {
                t = clock.now();
            }
            long p = previous;
            long ts = t;
            assertTrue(t > previous, () -> "seed " + seed + ": " + Hlc.format(ts) + " not after " + Hlc.format(p));
            assertTrue(Hlc.physicalMillis(t) >= wall[0], () -> "seed " + seed + ": clock behind the wall clock");
            previous = t;
        }
    }

    @Test
    void updateIsAfterRemoteAndPrevious() {
        Hlc clock = new Hlc(() -> 1000);
        assertEquals(Hlc.of(1000, 0), clock.now());
        assertEquals(Hlc.of(1000, 1), clock.now());
        assertEquals(Hlc.of(2000, 8), clock.update(Hlc.of(2000, 7))); // remote ahead
        assertEquals(Hlc.of(2000, 9), clock.update(Hlc.of(500, 3))); // remote behind
        assertEquals(Hlc.of(2000, 10), clock.now()); // wall clock still behind
        assertThrows(IllegalArgumentException.class, () -> clock.update(-1));
        assertThrows(IllegalStateException.class, () -> clock.update(Long.MAX_VALUE));
    }

    @Test
    void logicalOverflowCarriesIntoPhysical() {
        long[] wall = {1000};
        Hlc clock = new Hlc(() -> wall[0]);
        long t = 0;
        for (int i = 0; i <= 0xffff; i++) {
            t = clock.now();
        }
        assertEquals(Hlc.of(1000, 0xffff), t);
        assertEquals(Hlc.of(1001, 0), clock.now());
        wall[0] = 1001; // wall clock catches up with the carried clock
        assertEquals(Hlc.of(1001, 1), clock.now());
        assertEquals(Hlc.of(5000, 0), clock.update(Hlc.of(4999, 0xffff)));
        wall[0] = 6000;
        assertEquals(Hlc.of(6000, 0), clock.now());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("io.smalti.ring.crdt.CrdtLaws#seeds")
    void packingRoundTripsAndOrdersLikeThePair(long seed) {
        Random rnd = new Random(seed);
        for (int i = 0; i < 1_000; i++) {
            long p = rnd.nextLong(1L << 47);
            int l = rnd.nextInt(1 << 16);
            long t = Hlc.of(p, l);
            assertEquals(p, Hlc.physicalMillis(t), "seed " + seed);
            assertEquals(l, Hlc.logical(t), "seed " + seed);
            assertTrue(t >= 0, "seed " + seed);
            long p2 = rnd.nextBoolean() ? p : rnd.nextLong(1L << 47);
            int l2 = rnd.nextInt(1 << 16);
            int pairOrder = p != p2 ? Long.compare(p, p2) : Integer.compare(l, l2);
            assertEquals(Integer.signum(pairOrder), Long.signum(Long.compare(t, Hlc.of(p2, l2))), "seed " + seed);
        }
        assertThrows(IllegalArgumentException.class, () -> Hlc.of(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> Hlc.of(1L << 47, 0));
        assertThrows(IllegalArgumentException.class, () -> Hlc.of(0, 1 << 16));
        assertThrows(IllegalArgumentException.class, () -> Hlc.of(0, -1));
    }

    @Test
    void formatsForOperators() {
        assertEquals("2026-11-23T10:00:00.123Z+5",
                Hlc.format(Hlc.of(Instant.parse("2026-11-23T10:00:00.123Z").toEpochMilli(), 5)));
        assertEquals("1970-01-01T00:00:00.000Z+0", Hlc.format(0));
    }

    @Test
    void defaultClockFollowsSystemTime() {
        long before = System.currentTimeMillis();
        long t = new Hlc().now();
        assertTrue(Hlc.physicalMillis(t) >= before && Hlc.physicalMillis(t) <= System.currentTimeMillis());
    }

    @Test
    void concurrentNowNeverRepeats() throws Exception {
        int threads = 8;
        int perThread = 50_000;
        AtomicLong wall = new AtomicLong(1000); // mostly stalled, so the logical counter and its carry do the work
        Hlc clock = new Hlc(() -> wall.get() / 1000);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            Future<?>[] futures = new Future<?>[threads];
            long[][] seen = new long[threads][perThread];
            for (int k = 0; k < threads; k++) {
                long[] mine = seen[k];
                futures[k] = pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        wall.incrementAndGet();
                        mine[i] = clock.now();
                        if (i > 0 && mine[i] <= mine[i - 1]) {
                            throw new AssertionError("thread saw " + mine[i] + " after " + mine[i - 1]);
                        }
                    }
                    return null;
                });
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            long[] all = Arrays.stream(seen).flatMapToLong(Arrays::stream).toArray();
            assertEquals(threads * perThread, Arrays.stream(all).distinct().count());
        } finally {
            pool.shutdownNow();
        }
    }
}
