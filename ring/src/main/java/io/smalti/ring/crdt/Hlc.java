package io.smalti.ring.crdt;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014). A timestamp is a long whose
 * high 48 bits are physical milliseconds since the epoch and whose low 16 bits are a logical counter, so
 * timestamps order as plain longs. The physical part must stay below 2<sup>47</sup> ms (the year 6429) so
 * timestamps are never negative.
 *
 * <p>Every timestamp the clock hands out is strictly greater than every timestamp it handed out or
 * observed before, whatever the wall clock does (stall, step backwards). When the logical counter would
 * pass 0xffff, the timestamp carries into the physical part: the clock runs one millisecond ahead of the
 * wall clock with logical 0 until the wall clock catches up.
 *
 * <p>Thread-safe: all methods may be called from any thread.
 */
public final class Hlc {
    private static final int LOGICAL_BITS = 16;
    private static final int MAX_LOGICAL = (1 << LOGICAL_BITS) - 1;
    private static final long PHYSICAL_LIMIT = 1L << 47;
    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final LongSupplier wallClockMillis;
    private long last;

    public Hlc() {
        this(System::currentTimeMillis);
    }

    public Hlc(LongSupplier wallClockMillis) {
        this.wallClockMillis = wallClockMillis;
    }

    /** A timestamp for a local or send event. */
    public synchronized long now() {
        last = Math.max(wall(), successor(last));
        return last;
    }

    /**
     * A timestamp for receiving a message stamped {@code remote}: greater than {@code remote} and than every
     * timestamp this clock returned before.
     *
     * @throws IllegalArgumentException if {@code remote} is negative (not a timestamp)
     */
    public synchronized long update(long remote) {
        if (remote < 0) {
            throw new IllegalArgumentException("remote timestamp must not be negative, got " + remote);
        }
        last = Math.max(wall(), successor(Math.max(last, remote)));
        return last;
    }

    /**
     * Packs a timestamp.
     *
     * @throws IllegalArgumentException if {@code physicalMillis} is outside [0, 2^47) or {@code logical}
     *     outside [0, 0xffff]
     */
    public static long of(long physicalMillis, int logical) {
        if (physicalMillis < 0 || physicalMillis >= PHYSICAL_LIMIT) {
            throw new IllegalArgumentException("physical millis must be in [0, 2^47), got " + physicalMillis);
        }
        if (logical < 0 || logical > MAX_LOGICAL) {
            throw new IllegalArgumentException("logical counter must be in [0, 65535], got " + logical);
        }
        return physicalMillis << LOGICAL_BITS | logical;
    }

    public static long physicalMillis(long timestamp) {
        return timestamp >>> LOGICAL_BITS;
    }

    public static int logical(long timestamp) {
        return (int) (timestamp & MAX_LOGICAL);
    }

    /** Operator-readable form: UTC time with milliseconds, then {@code +logical}, e.g. {@code 2026-11-23T10:00:00.123Z+5}. */
    public static String format(long timestamp) {
        return FORMAT.format(Instant.ofEpochMilli(physicalMillis(timestamp))) + "+" + logical(timestamp);
    }

    private long wall() {
        return of(wallClockMillis.getAsLong(), 0);
    }

    // Adding one carries a full logical counter into the physical part, which is the overflow rule above.
    private static long successor(long timestamp) {
        if (timestamp == Long.MAX_VALUE) {
            throw new IllegalStateException("hybrid logical clock exhausted at " + format(timestamp));
        }
        return timestamp + 1;
    }
}
