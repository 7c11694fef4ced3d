package io.smalti.ring.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.smalti.ring.Ring;
import io.smalti.ring.claim.Claim;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RingRegisterTest {

    private static List<RingRegister> samples() {
        Random rnd = new Random(17);
        List<RingRegister> out = new ArrayList<>();
        out.add(RingRegister.EMPTY);
        for (int i = 0; i < 30; i++) {
            List<String> members = List.of("a", "b", "c", "d", "e").subList(0, 1 + rnd.nextInt(5));
            String[] owners = Claim.claim(null, 16, members, 3).owners();
            // few distinct epochs and claimants, so ties are exercised
            Ring ring = Ring.of(rnd.nextInt(3), 3, owners, rnd.nextBoolean() ? "a" : "b", rnd.nextInt(2));
            out.add(RingRegister.of(ring));
        }
        return out;
    }

    @Test
    void mergeIsCommutativeAssociativeAndIdempotent() {
        List<RingRegister> s = samples();
        for (RingRegister x : s) {
            assertEquals(x, x.mergeData(x));
            for (RingRegister y : s) {
                assertEquals(x.mergeData(y), y.mergeData(x));
                for (RingRegister z : s) {
                    assertEquals(x.mergeData(y).mergeData(z), x.mergeData(y.mergeData(z)));
                }
            }
        }
    }

    @Test
    void higherEpochWins() {
        String[] owners = Claim.claim(null, 8, List.of("a", "b"), 2).owners();
        RingRegister older = RingRegister.of(Ring.of(4, 2, owners, "z", 99));
        RingRegister newer = RingRegister.of(Ring.of(5, 2, owners, "a", 1));
        assertSame(newer, older.mergeData(newer));
        assertSame(newer, newer.mergeData(older));
        assertSame(older, RingRegister.EMPTY.mergeData(older));
    }

    @Test
    void serializerRoundTrips() throws Exception {
        ProtocolSerializer ser = new ProtocolSerializer(null);
        for (RingRegister r : samples()) {
            assertEquals(r, ser.fromBinary(ser.toBinary(r), ser.manifest(r)));
        }
    }
}
