package io.smalti.node.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private static Duration ms(long n) {
        return Duration.ofMillis(n);
    }

    @Test
    void growsByTheMultiplierUpToMax() {
        Backoff b = new Backoff(ms(100), ms(1000), 2.0, Duration.ofSeconds(10));
        assertEquals(ms(100), b.delay(0));
        assertEquals(ms(200), b.delay(1));
        assertEquals(ms(400), b.delay(2));
        assertEquals(ms(800), b.delay(3));
        assertEquals(ms(1000), b.delay(4));
        assertEquals(ms(1000), b.delay(5000)); // saturates, no overflow
    }

    @Test
    void multiplierOfOneIsConstant() {
        Backoff b = new Backoff(ms(50), ms(50), 1.0, ms(1));
        assertEquals(ms(50), b.delay(0));
        assertEquals(ms(50), b.delay(7));
    }

    @Test
    void rejectsNonsense() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new Backoff(ms(10), ms(5), 2, ms(1))).getMessage().contains("shorter than initial"));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(ms(-1), ms(5), 2, ms(1)));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(ms(1), ms(5), 0.5, ms(1)));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(ms(1), ms(5), Double.NaN, ms(1)));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(ms(1), ms(5), 2, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Backoff.defaults().delay(-1));
    }
}
