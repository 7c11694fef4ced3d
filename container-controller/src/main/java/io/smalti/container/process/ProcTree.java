package io.smalti.container.process;

import io.smalti.container.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads a process tree's usage from /proc. Stateless and thread-safe. */
final class ProcTree {
    /** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux ABI the JVM runs on. */
    private static final long TICK_NANOS = 10_000_000L;

    private ProcTree() {
    }

    /** The process and its descendants, as a snapshot. */
    static List<ProcessHandle> tree(ProcessHandle root) {
        List<ProcessHandle> out = new ArrayList<>();
        out.add(root);
        root.descendants().forEach(out::add);
        return out;
    }

    static Optional<Usage> usage(ProcessHandle root) {
        if (!root.isAlive()) {
            return Optional.empty();
        }
        long rss = 0;
        long cpu = 0;
        int count = 0;
        for (ProcessHandle p : tree(root)) {
            Optional<long[]> s = stat(p.pid());
            if (s.isEmpty()) {
                continue; // exited meanwhile
            }
            count++;
            cpu += s.get()[0] * TICK_NANOS;
            rss += rssBytes(p.pid());
        }
        return Optional.of(new Usage(rss, cpu, count));
    }

    /** {utime + stime in ticks, start time in ticks} from /proc/<pid>/stat. */
    static Optional<long[]> stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name (field 2) may contain spaces and parentheses: fields after the last ')' are plain
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
            // f[0] is field 3 (state): utime is field 14, stime 15, starttime 22
            return Optional.of(new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12]), Long.parseLong(f[19])});
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // exited meanwhile, or a kernel thread without VmRSS
        }
        return 0;
    }
}
