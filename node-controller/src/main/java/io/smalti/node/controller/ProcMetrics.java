package io.smalti.node.controller;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Samples {@link NodeMetrics} from a Linux procfs ({@code stat}, {@code meminfo}, {@code loadavg},
 * {@code net/dev}) and from the file store of a data directory. CPU and network figures are deltas against the
 * previous sample, so {@link #sample()} is synchronized and the first sample reports them as 0.
 */
public final class ProcMetrics {

    private static final Pattern WS = Pattern.compile("\\s+");
    private static final Pattern PER_CPU = Pattern.compile("cpu\\d+");

    private final Path procRoot;
    private final Path dataDir;
    private final Clock clock;

    // Previous sample, for the deltas; guarded by this.
    private CpuTimes lastCpu;
    private Map<String, long[]> lastNet;
    private Instant lastAt;

    /** Reads {@code /proc}; disk figures are those of {@code dataDir}'s file store. */
    public ProcMetrics(Path dataDir) {
        this(Path.of("/proc"), dataDir);
    }

    /** Reads the procfs files under {@code procRoot} (a fixture directory in tests). */
    public ProcMetrics(Path procRoot, Path dataDir) {
        this(procRoot, dataDir, Clock.systemUTC());
    }

    /** As {@link #ProcMetrics(Path, Path)}, timing samples (and so network rates) with {@code clock}. */
    public ProcMetrics(Path procRoot, Path dataDir, Clock clock) {
        this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
        this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Takes the next sample.
     *
     * @throws IllegalStateException if a file is missing, unreadable or malformed (the message names it)
     */
    public synchronized NodeMetrics sample() {
        Instant now = clock.instant();
        Stat stat = readStat();
        long[] mem = readMeminfo();
        double[] load = readLoadavg();
        long[] disk = readDisk();
        Map<String, long[]> net = readNetDev();

        double cpuBusy = lastCpu == null ? 0.0 : stat.cpu.busyFractionSince(lastCpu);
        long rxRate = 0;
        long txRate = 0;
        if (lastNet != null) {
            long elapsedMillis = Duration.between(lastAt, now).toMillis();
            if (elapsedMillis > 0) {
                long rx = 0;
                long tx = 0;
                for (Map.Entry<String, long[]> e : net.entrySet()) {
                    long[] before = lastNet.get(e.getKey());
                    // An interface that just appeared has no delta yet (its counters may be large if it was
                    // moved in from another namespace); a counter that went down was reset: skip both.
                    if (before == null) {
                        continue;
                    }
                    long drx = e.getValue()[0] - before[0];
                    long dtx = e.getValue()[1] - before[1];
                    if (drx > 0) {
                        rx += drx;
                    }
                    if (dtx > 0) {
                        tx += dtx;
                    }
                }
                rxRate = Math.round(rx * 1000.0 / elapsedMillis);
                txRate = Math.round(tx * 1000.0 / elapsedMillis);
            }
        }
        lastCpu = stat.cpu;
        lastNet = net;
        lastAt = now;
        return new NodeMetrics(now, stat.cpus, cpuBusy, mem[0], mem[1], load[0], load[1], load[2],
                disk[0], disk[1], rxRate, txRate);
    }

    /** Cumulative jiffies of the aggregate {@code cpu} line. */
    private record CpuTimes(long total, long idle) {
        double busyFractionSince(CpuTimes before) {
            long dTotal = total - before.total;
            long dIdle = idle - before.idle;
            if (dTotal <= 0) {
                return 0.0; // no time passed (or counters reset): nothing to say
            }
            double busy = (double) (dTotal - dIdle) / dTotal;
            return Math.max(0.0, Math.min(1.0, busy));
        }
    }

    private record Stat(CpuTimes cpu, int cpus) {
    }

    private Stat readStat() {
        Path file = procRoot.resolve("stat");
        CpuTimes cpu = null;
        int cpus = 0;
        for (String line : lines(file)) {
            String[] f = WS.split(line.trim());
            if (f[0].equals("cpu")) {
                // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already
                // counted in user/nice, so summing it again would inflate the total.
                if (f.length < 5) {
                    throw malformed(file, line, "expected at least 4 counters on the cpu line");
                }
                long total = 0;
                long idle = 0;
                for (int i = 1; i < Math.min(f.length, 9); i++) {
                    long v = parseLong(file, line, f[i]);
                    total += v;
                    if (i == 4 || i == 5) { // idle, iowait
                        idle += v;
                    }
                }
                cpu = new CpuTimes(total, idle);
            } else if (PER_CPU.matcher(f[0]).matches()) {
                cpus++;
            }
        }
        if (cpu == null) {
            throw new IllegalStateException("no aggregate 'cpu' line in " + file);
        }
        return new Stat(cpu, cpus > 0 ? cpus : Runtime.getRuntime().availableProcessors());
    }

    /** Returns {MemTotal, MemAvailable} in bytes. */
    private long[] readMeminfo() {
        Path file = procRoot.resolve("meminfo");
        Map<String, Long> values = new HashMap<>();
        for (String line : lines(file)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            if (!List.of("MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached").contains(key)) {
                continue;
            }
            String[] f = WS.split(line.substring(colon + 1).trim());
            long v = parseLong(file, line, f[0]);
            if (f.length > 1 && f[1].equalsIgnoreCase("kB")) {
                v *= 1024;
            }
            values.put(key, v);
        }
        Long total = values.get("MemTotal");
        if (total == null) {
            throw new IllegalStateException("no MemTotal in " + file);
        }
        Long available = values.get("MemAvailable");
        if (available == null) {
            // Kernels before 3.14 lack MemAvailable; free + buffers + page cache is the usual estimate.
            Long free = values.get("MemFree");
            if (free == null) {
                throw new IllegalStateException("neither MemAvailable nor MemFree in " + file);
            }
            available = free + values.getOrDefault("Buffers", 0L) + values.getOrDefault("Cached", 0L);
        }
        return new long[] {total, available};
    }

    private double[] readLoadavg() {
        Path file = procRoot.resolve("loadavg");
        List<String> lines = lines(file);
        String line = lines.isEmpty() ? "" : lines.get(0);
        String[] f = WS.split(line.trim());
        if (f.length < 3) {
            throw malformed(file, line, "expected three load averages");
        }
        double[] load = new double[3];
        for (int i = 0; i < 3; i++) {
            try {
                load[i] = Double.parseDouble(f[i]);
            } catch (NumberFormatException e) {
                throw malformed(file, line, "'" + f[i] + "' is not a number");
            }
        }
        return load;
    }

    /** Returns {total, usable} bytes of the data directory's file store. */
    private long[] readDisk() {
        try {
            FileStore store = Files.getFileStore(dataDir);
            return new long[] {store.getTotalSpace(), store.getUsableSpace()};
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("data directory " + dataDir + " does not exist", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the file store of data directory " + dataDir + ": " + e, e);
        }
    }

    /** Returns interface name → {rx bytes, tx bytes}, without {@code lo}. */
    private Map<String, long[]> readNetDev() {
        Path file = procRoot.resolve("net/dev");
        Map<String, long[]> result = new HashMap<>();
        for (String line : lines(file)) {
            // The two header lines have no colon; counters may follow the colon without a space.
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String iface = line.substring(0, colon).trim();
            if (iface.equals("lo")) {
                continue;
            }
            String[] f = WS.split(line.substring(colon + 1).trim());
            if (f.length < 9) {
                throw malformed(file, line, "expected at least 9 counters for interface " + iface);
            }
            result.put(iface, new long[] {parseLong(file, line, f[0]), parseLong(file, line, f[8])});
        }
        return result;
    }

    private List<String> lines(Path file) {
        try {
            // Latin-1 decodes any byte, so an odd interface name cannot make the read fail.
            return Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new IllegalStateException(file + " does not exist (node metrics need a Linux procfs at "
                    + procRoot + ")", e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e, e);
        }
    }

    private static long parseLong(Path file, String line, String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw malformed(file, line, "'" + value + "' is not an integer");
        }
    }

    private static IllegalStateException malformed(Path file, String line, String why) {
        return new IllegalStateException("malformed line in " + file + ": " + why + ": '" + line.strip() + "'");
    }
}
