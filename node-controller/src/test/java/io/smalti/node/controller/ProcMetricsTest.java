package io.smalti.node.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class ProcMetricsTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    @TempDir
    Path proc;
    @TempDir
    Path data;

    private MutableClock clock;
    private ProcMetrics metrics;

    @BeforeEach
    void setUp() throws IOException {
        clock = new MutableClock(T0);
        metrics = new ProcMetrics(proc, data, clock);
        Files.createDirectories(proc.resolve("net"));
        stat(1000, 0, 500, 8000, 500, 0, 0, 0);
        Files.writeString(proc.resolve("meminfo"), """
                MemTotal:       16000000 kB
                MemFree:         1000000 kB
                MemAvailable:    8000000 kB
                Buffers:          100000 kB
                HugePages_Total:       0
                Hugepagesize:       2048 kB
                """);
        Files.writeString(proc.resolve("loadavg"), "0.50 1.25 2.00 3/456 7890\n");
        netDev(1000, 2000, 500, 700);
    }

    /** Aggregate cpu line with the given counters, two per-cpu lines, and lines the parser must skip. */
    private void stat(long user, long nice, long system, long idle, long iowait, long irq, long softirq, long steal)
            throws IOException {
        Files.writeString(proc.resolve("stat"),
                "cpu  " + user + " " + nice + " " + system + " " + idle + " " + iowait + " " + irq + " " + softirq
                        + " " + steal + " 123456 0\n"
                        + "cpu0 1 2 3 4 5 6 7 8 0 0\n"
                        + "cpu1 1 2 3 4 5 6 7 8 0 0\n"
                        + "intr 12345 1 2 3\n"
                        + "ctxt 99999\n"
                        + "btime 1700000000\n"
                        + "some_future_field x y z\n");
    }

    /** net/dev with the real two header lines, lo (ignored), eth0 and a no-space-after-colon wlan0. */
    private void netDev(long ethRx, long ethTx, long wlanRx, long wlanTx) throws IOException {
        Files.writeString(proc.resolve("net/dev"),
                "Inter-|   Receive                                                |  Transmit\n"
                        + " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
                        + "drop fifo colls carrier compressed\n"
                        + "    lo: 999999999 10 0 0 0 0 0 0 999999999 10 0 0 0 0 0 0\n"
                        + "  eth0: " + ethRx + " 10 0 0 0 0 0 0 " + ethTx + " 10 0 0 0 0 0 0\n"
                        + " wlan0:" + wlanRx + " 10 0 0 0 0 0 0 " + wlanTx + " 10 0 0 0 0 0 0\n");
    }

    @Test
    void firstSampleHasNoRates() {
        NodeMetrics m = metrics.sample();
        assertEquals(T0, m.at());
        assertEquals(2, m.cpus());
        assertEquals(0.0, m.cpuBusy());
        assertEquals(16_000_000L * 1024, m.memTotalBytes());
        assertEquals(8_000_000L * 1024, m.memAvailableBytes());
        assertEquals(0.5, m.load1());
        assertEquals(1.25, m.load5());
        assertEquals(2.0, m.load15());
        assertTrue(m.diskTotalBytes() > 0);
        assertTrue(m.diskFreeBytes() >= 0 && m.diskFreeBytes() <= m.diskTotalBytes());
        assertEquals(0, m.netRxBytesPerSec());
        assertEquals(0, m.netTxBytesPerSec());
    }

    @Test
    void secondSampleHasDeltas() throws IOException {
        metrics.sample();
        // +300 busy jiffies (user 200, system 50, irq 25, steal 25), +700 idle (idle 600, iowait 100): 30 % busy.
        stat(1200, 0, 550, 8600, 600, 25, 0, 25);
        netDev(1000 + 4000, 2000 + 1000, 500 + 2000, 700); // +6000 rx, +1000 tx over 2 s
        clock.advance(Duration.ofSeconds(2));
        NodeMetrics m = metrics.sample();
        assertEquals(T0.plusSeconds(2), m.at());
        assertEquals(0.3, m.cpuBusy(), 1e-9);
        assertEquals(3000, m.netRxBytesPerSec());
        assertEquals(500, m.netTxBytesPerSec());
    }

    @Test
    void counterResetsAndNewInterfacesDoNotMakeSpikes() throws IOException {
        metrics.sample();
        Files.writeString(proc.resolve("net/dev"),
                "  eth0: 100 1 0 0 0 0 0 0 3000 1 0 0 0 0 0 0\n" // rx went down: reset, ignored; tx +1000
                        + " veth9: 888888888 1 0 0 0 0 0 0 888888888 1 0 0 0 0 0 0\n"); // new: no delta yet
        clock.advance(Duration.ofSeconds(1));
        NodeMetrics m = metrics.sample();
        assertEquals(0, m.netRxBytesPerSec());
        assertEquals(1000, m.netTxBytesPerSec());
    }

    @Test
    void noTimeOrNoJiffiesGiveZeroNotNaN() {
        metrics.sample();
        NodeMetrics m = metrics.sample(); // same clock instant, same counters
        assertEquals(0.0, m.cpuBusy());
        assertEquals(0, m.netRxBytesPerSec());
    }

    @Test
    void memAvailableFallsBackOnOldKernels() throws IOException {
        Files.writeString(proc.resolve("meminfo"), "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\n"
                + "Cached: 30 kB\nSwapCached: 999 kB\n");
        assertEquals(150 * 1024, metrics.sample().memAvailableBytes());
    }

    @Test
    void missingFileIsNamed() throws IOException {
        Files.delete(proc.resolve("loadavg"));
        IllegalStateException e = assertThrows(IllegalStateException.class, metrics::sample);
        assertTrue(e.getMessage().contains(proc.resolve("loadavg").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void missingDataDirIsNamed() {
        Path gone = data.resolve("nope");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new ProcMetrics(proc, gone, clock).sample());
        assertTrue(e.getMessage().contains(gone.toString()), e.getMessage());
    }

    @Test
    void malformedLinesAreNamed() throws IOException {
        Files.writeString(proc.resolve("loadavg"), "0.5 oops 2\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, metrics::sample);
        assertTrue(e.getMessage().contains("loadavg") && e.getMessage().contains("oops"), e.getMessage());

        Files.writeString(proc.resolve("loadavg"), "0.5 1 2 1/2 3\n");
        Files.writeString(proc.resolve("stat"), "cpu0 1 2 3 4\n");
        e = assertThrows(IllegalStateException.class, metrics::sample);
        assertTrue(e.getMessage().contains("no aggregate 'cpu' line"), e.getMessage());

        Files.writeString(proc.resolve("meminfo"), "MemFree: 1 kB\n");
        stat(1, 1, 1, 1, 1, 1, 1, 1);
        e = assertThrows(IllegalStateException.class, metrics::sample);
        assertTrue(e.getMessage().contains("MemTotal") && e.getMessage().contains("meminfo"), e.getMessage());
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void realProcGivesPlausibleFigures() throws Exception {
        ProcMetrics real = new ProcMetrics(data);
        real.sample();
        Thread.sleep(50);
        NodeMetrics m = real.sample();
        assertTrue(m.cpus() >= 1);
        assertTrue(m.cpuBusy() >= 0 && m.cpuBusy() <= 1, "cpuBusy " + m.cpuBusy());
        assertTrue(m.memTotalBytes() > 0 && m.memAvailableBytes() <= m.memTotalBytes());
        assertTrue(m.load1() >= 0);
        assertTrue(m.diskTotalBytes() > 0);
        assertTrue(m.netRxBytesPerSec() >= 0 && m.netTxBytesPerSec() >= 0);
    }
}
