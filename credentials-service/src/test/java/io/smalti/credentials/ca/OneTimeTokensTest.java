package io.smalti.credentials.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OneTimeTokensTest {
    private static final Identity CHILD = new Identity(Identity.HARNESS, "c0ffee", "n1", List.of());
    private final Instant t0 = Instant.parse("2026-12-06T12:00:00Z");

    @Test
    void aTokenWorksOnceAndOnlyBeforeItExpires() throws Exception {
        OneTimeTokens tokens = new OneTimeTokens(Duration.ofSeconds(60), 100);
        OneTimeTokens.Token t = tokens.make(CHILD, t0);
        assertEquals(t0.plusSeconds(60), t.expires());
        assertEquals(CHILD, tokens.redeem(t.value(), t0.plusSeconds(59)));
        assertThrows(OneTimeTokens.Refused.class, () -> tokens.redeem(t.value(), t0.plusSeconds(59)));

        OneTimeTokens.Token late = tokens.make(CHILD, t0);
        OneTimeTokens.Refused r = assertThrows(OneTimeTokens.Refused.class, () -> tokens.redeem(late.value(), t0.plusSeconds(60)));
        assertTrue(r.getMessage().contains("expired"), r.getMessage());
        assertThrows(OneTimeTokens.Refused.class, () -> tokens.redeem("made-up", t0));
        assertThrows(OneTimeTokens.Refused.class, () -> tokens.redeem(null, t0));
    }

    @Test
    void underAnyInterleavingEachTokenIsRedeemedAtMostOnceAndOutstandingStaysBounded() throws Exception {
        Random random = new Random(7);
        for (int round = 0; round < 50; round++) {
            OneTimeTokens tokens = new OneTimeTokens(Duration.ofSeconds(10), 20);
            List<OneTimeTokens.Token> made = new java.util.ArrayList<>();
            Set<String> redeemed = new HashSet<>();
            Instant now = t0;
            for (int step = 0; step < 200; step++) {
                now = now.plusMillis(random.nextInt(2000));
                if (random.nextBoolean()) {
                    try {
                        made.add(tokens.make(CHILD, now));
                    } catch (OneTimeTokens.Refused full) {
                        assertEquals(20, tokens.outstanding(now));
                    }
                } else if (!made.isEmpty()) {
                    OneTimeTokens.Token t = made.get(random.nextInt(made.size()));
                    boolean ok;
                    try {
                        tokens.redeem(t.value(), now);
                        ok = true;
                    } catch (OneTimeTokens.Refused e) {
                        ok = false;
                    }
                    boolean expected = now.isBefore(t.expires()) && !redeemed.contains(t.value());
                    assertEquals(expected, ok, "token redeemed at " + now + ", expires " + t.expires());
                    if (ok) {
                        redeemed.add(t.value());
                    }
                }
                assertTrue(tokens.outstanding(now) <= 20);
            }
            assertNotEquals(0, made.size());
        }
    }
}
