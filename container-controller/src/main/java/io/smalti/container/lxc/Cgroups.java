package io.smalti.container.lxc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cgroup hierarchies of this host and of this process: which limit keys apply (v1 controllers or pure v2),
 * and where this JVM's cgroups are (containers nest below them: {@code lxc.cgroup.relative}). Stateless and
 * thread-safe.
 */
final class Cgroups {
    /** A mounted hierarchy: its mount point and its controllers (empty for the v2 unified one). */
    record Hierarchy(Path mount, List<String> controllers, boolean v2) {
    }

    private Cgroups() {
    }

    static List<Hierarchy> hierarchies() {
        List<Hierarchy> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                int sep = line.indexOf(" - ");
                if (sep < 0) {
                    continue;
                }
                String[] pre = line.substring(0, sep).split(" ");
                String[] post = line.substring(sep + 3).split(" ");
                if (post[0].equals("cgroup2")) {
                    out.add(new Hierarchy(Path.of(pre[4]), List.of(), true));
                } else if (post[0].equals("cgroup") && post.length > 2) {
                    List<String> ctrl = new ArrayList<>();
                    for (String o : post[2].split(",")) {
                        if (!o.equals("rw") && !o.equals("ro") && !o.contains("=") && !o.startsWith("no")
                                && !o.equals("relatime") && !o.equals("noexec") && !o.equals("clone_children")) {
                            ctrl.add(o);
                        }
                        if (o.startsWith("name=")) {
                            ctrl.add(o);
                        }
                    }
                    out.add(new Hierarchy(Path.of(pre[4]), ctrl, false));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** True when the v1 memory controller is mounted: the lxc.cgroup.* keys apply (lxc.cgroup2.* are ignored). */
    static boolean v1Memory() {
        return hierarchies().stream().anyMatch(h -> !h.v2() && h.controllers().contains("memory"));
    }

    /** True when the v1 devices controller is mounted (else devices are filtered by v2's eBPF programs). */
    static boolean v1Devices() {
        return hierarchies().stream().anyMatch(h -> !h.v2() && h.controllers().contains("devices"));
    }

    /** This process's cgroup directory per hierarchy mount point (from /proc/self/cgroup). */
    static Map<Path, Path> self() {
        Map<Path, Path> out = new LinkedHashMap<>();
        List<Hierarchy> hs = hierarchies();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length < 3) {
                    continue;
                }
                String rel = f[2].startsWith("/") ? f[2].substring(1) : f[2];
                for (Hierarchy h : hs) {
                    boolean match = f[1].isEmpty() ? h.v2() : !h.v2() && List.of(f[1].split(",")).stream()
                            .allMatch(h.controllers()::contains);
                    if (match) {
                        out.put(h.mount(), rel.isEmpty() ? h.mount() : h.mount().resolve(rel));
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** The memory cgroup directory this JVM is in (where memory.memsw.* tells whether swap accounting is on). */
    static Path selfMemory() {
        for (Map.Entry<Path, Path> e : self().entrySet()) {
            if (e.getKey().getFileName().toString().equals("memory")) {
                return e.getValue();
            }
        }
        return null;
    }

    /**
     * Removes empty cgroup directories lxc left for a container (lxc.payload.NAME, lxc.monitor.NAME, lxc.pivot)
     * below this JVM's cgroups; returns those that could not be removed.
     */
    static List<Path> removeLeftovers(String containerName) {
        List<Path> left = new ArrayList<>();
        for (Path dir : self().values()) {
            for (String n : List.of("lxc.payload." + containerName, "lxc.monitor." + containerName)) {
                Path p = dir.resolve(n);
                if (Files.isDirectory(p)) {
                    removeTree(p, left);
                }
            }
        }
        return left;
    }

    /** cgroup directories are removed bottom-up with rmdir (their files cannot be deleted). */
    private static void removeTree(Path p, List<Path> left) {
        try (var s = Files.list(p)) {
            for (Path c : s.filter(Files::isDirectory).toList()) {
                removeTree(c, left);
            }
        } catch (IOException e) {
            // gone meanwhile
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            left.add(p);
        }
    }
}
