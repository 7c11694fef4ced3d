package io.smalti.container.lxc;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Reads this process's mount table and unmounts trees. Stateless and thread-safe. */
final class Mounts {
    private Mounts() {
    }

    /** Mount points of this mount namespace (from /proc/self/mountinfo, octal escapes decoded). */
    static List<String> mountPoints() {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    out.add(unescape(f[4]));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Mount points at or below dir, deepest first. */
    static List<String> under(Path dir) {
        String d = dir.toAbsolutePath().normalize().toString();
        List<String> out = new ArrayList<>();
        for (String m : mountPoints()) {
            if (m.equals(d) || m.startsWith(d + "/")) {
                out.add(m);
            }
        }
        out.sort(Comparator.comparingInt(String::length).reversed());
        return out;
    }

    /** Detaches every mount at or below dir; returns what is still mounted there afterwards. */
    static List<String> unmountAll(Path dir) {
        for (int round = 0; round < 3; round++) {
            List<String> left = under(dir);
            if (left.isEmpty()) {
                return left;
            }
            for (String m : left) {
                try {
                    LibC.INSTANCE.umount2(m, LibC.MNT_DETACH);
                } catch (LastErrorException e) {
                    // EINVAL: already gone below a detached parent; checked again on the next round
                }
            }
        }
        return under(dir);
    }

    static void overlay(Path lower, Path upper, Path work, Path merged) {
        String options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
        try {
            LibC.INSTANCE.mount("overlay", merged.toString(), "overlay", 0, options);
        } catch (LastErrorException e) {
            throw new io.smalti.container.ContainerException("cannot mount overlay on " + merged + " (" + options
                    + "): errno " + e.getErrorCode() + " " + e.getMessage());
        }
    }

    /**
     * Binds a host file or directory at {@code target} (created if missing), read-only or not, never with
     * set-uid programs or devices. A read-only bind takes two calls: the kernel ignores MS_RDONLY on the first.
     */
    static void bind(Path source, Path target, boolean readOnly) {
        try {
            if (Files.isDirectory(source)) {
                Files.createDirectories(target);
            } else if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(target.getParent());
                Files.createFile(target);
            }
            LibC.INSTANCE.mount(source.toString(), target.toString(), null, LibC.MS_BIND, null);
            long flags = LibC.MS_REMOUNT | LibC.MS_BIND | LibC.MS_NOSUID | LibC.MS_NODEV
                    | (readOnly ? LibC.MS_RDONLY : 0);
            LibC.INSTANCE.mount("none", target.toString(), null, flags, null);
        } catch (IOException e) {
            throw new io.smalti.container.ContainerException("cannot bind " + source + " at " + target + ": " + e, e);
        } catch (LastErrorException e) {
            throw new io.smalti.container.ContainerException("cannot bind " + source + " at " + target + ": errno "
                    + e.getErrorCode() + " " + e.getMessage());
        }
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                    // not an escape
                }
            }
            b.append(ch);
        }
        return b.toString();
    }
}
