package io.smalti.ring.crdt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.LongStream;

/** Checks of the state-based CRDT laws shared by the register and set tests; failures name the seed. */
final class CrdtLaws<T> {
    private final BinaryOperator<T> merge;
    private final Function<T, ByteString> toBytes;
    private final Function<ByteString, T> fromBytes;

    CrdtLaws(BinaryOperator<T> merge, Function<T, ByteString> toBytes, Function<ByteString, T> fromBytes) {
        this.merge = merge;
        this.toBytes = toBytes;
        this.fromBytes = fromBytes;
    }

    /** Fixed seeds so every run checks the same histories. */
    static LongStream seeds() {
        return LongStream.rangeClosed(1, 30);
    }

    /** Idempotence and commutativity over all pairs, associativity over random triples. */
    void assertLaws(List<T> states, Random rnd, long seed) {
        for (T a : states) {
            assertEquals(a, merge.apply(a, a), () -> "seed " + seed + ": merge not idempotent for " + a);
            for (T b : states) {
                assertIdentical(merge.apply(a, b), merge.apply(b, a),
                        () -> "seed " + seed + ": merge not commutative for " + a + " and " + b);
            }
        }
        for (int i = 0; i < 2_000; i++) {
            T a = pick(states, rnd);
            T b = pick(states, rnd);
            T c = pick(states, rnd);
            assertIdentical(merge.apply(merge.apply(a, b), c), merge.apply(a, merge.apply(b, c)),
                    () -> "seed " + seed + ": merge not associative for " + a + ", " + b + ", " + c);
        }
    }

    /**
     * Every replica receives all {@code states} in its own random order; all must end equal, byte for byte.
     *
     * @return the converged state
     */
    T assertConvergence(List<T> replicas, List<T> states, Random rnd, long seed) {
        T converged = null;
        for (T replica : replicas) {
            List<T> order = new ArrayList<>(states);
            Collections.shuffle(order, rnd);
            T r = replica;
            for (T s : order) {
                r = merge.apply(r, s);
            }
            if (converged == null) {
                converged = r;
            }
            assertIdentical(converged, r, () -> "seed " + seed + ": replicas diverged");
        }
        return converged;
    }

    /** Every state survives encoding. */
    void assertRoundTrips(List<T> states, long seed) {
        for (T s : states) {
            assertEquals(s, fromBytes.apply(toBytes.apply(s)), () -> "seed " + seed + ": round trip changed " + s);
        }
    }

    private void assertIdentical(T expected, T actual, Supplier<String> message) {
        assertEquals(expected, actual, message);
        assertEquals(expected.hashCode(), actual.hashCode(), message);
        assertEquals(toBytes.apply(expected), toBytes.apply(actual), message);
    }

    private static <T> T pick(List<T> states, Random rnd) {
        return states.get(rnd.nextInt(states.size()));
    }
}
