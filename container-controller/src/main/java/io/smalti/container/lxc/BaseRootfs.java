package io.smalti.container.lxc;

import io.smalti.container.ContainerException;
import io.smalti.container.InstanceStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node's base root filesystem: busybox (static) with its applets, the directories a container needs, and a
 * minimal /etc. Built once under the state directory (in a temporary directory, then renamed, so a half-built one
 * is never used) and only ever the read-only lower layer of instance overlays. It is owned by the containers' root
 * (a mapped host id): inside, directories such as {@code /run/smalti} must be its own to write in, and an overlay
 * never writes to its lower layer. Callers serialize {@link #ensure}.
 */
final class BaseRootfs {
    /**
     * Bumped when the layout changes. Each version has its own directory: an older one may still be the lower
     * layer of running instances' overlays, and a lower layer must not change under a mounted overlay.
     */
    private static final String VERSION = "2";
    static final Path BUSYBOX = Path.of("/bin/busybox");

    private BaseRootfs() {
    }

    /** The base for containers whose root is host id {@code root}, built if missing. */
    static Path ensure(Path stateDir, int root) {
        String name = "rootfs-v" + VERSION + "-" + root;
        Path dir = stateDir.resolve(name);
        try {
            if (Files.isDirectory(dir)) {
                return dir;
            }
            Path tmp = stateDir.resolve(name + ".tmp");
            InstanceStore.deleteTree(tmp);
            build(tmp);
            Ids.chownTree(tmp, root);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            return dir;
        } catch (IOException e) {
            throw new ContainerException("cannot build the base root filesystem in " + dir + ": " + e, e);
        }
    }

    private static void build(Path root) throws IOException {
        if (!Files.isRegularFile(BUSYBOX)) {
            throw new ContainerException(BUSYBOX + " is missing: install busybox-static (the base root filesystem"
                    + " of lxc containers is built from it)");
        }
        for (String d : List.of("bin", "sbin", "dev", "proc", "sys/fs/cgroup", "run/smalti", "etc", "app", "root", "usr/bin",
                "usr/lib", "var")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.createDirectories(root.resolve("tmp"));
        Files.setPosixFilePermissions(root.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        // Debian's merged /usr: /lib and /lib64 are links into /usr; mirror the host so bind mounts of /usr/lib
        // serve both and the dynamic loader's path (/lib64/ld-linux-x86-64.so.2) resolves.
        for (String d : List.of("lib", "lib64")) {
            Path host = Path.of("/", d);
            if (Files.isSymbolicLink(host)) {
                Files.createSymbolicLink(root.resolve(d), Files.readSymbolicLink(host));
                Path target = Path.of("/").resolve(Files.readSymbolicLink(host));
                Files.createDirectories(root.resolve(Path.of("/").relativize(target)));
            } else if (Files.isDirectory(host)) {
                Files.createDirectories(root.resolve(d));
            }
        }
        Path bb = root.resolve("bin/busybox");
        Files.copy(BUSYBOX, bb);
        Files.setPosixFilePermissions(bb, PosixFilePermissions.fromString("r-xr-xr-x"));
        for (String applet : applets()) {
            Path link = root.resolve("bin").resolve(applet);
            if (!applet.isBlank() && !applet.contains("/") && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
        }
        write(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        write(root.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
        write(root.resolve("etc/hosts"), "127.0.0.1 localhost\n::1 localhost\n");
        write(root.resolve("etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
    }

    private static List<String> applets() throws IOException {
        try {
            Process p = new ProcessBuilder(BUSYBOX.toString(), "--list").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            List<String> list = out.lines().map(String::strip).filter(s -> s.matches("[A-Za-z0-9_.\\[\\]-]+")).toList();
            return list.isEmpty() ? List.of("sh") : list;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of("sh");
        }
    }

    private static void write(Path p, String content) throws IOException {
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r--r--r--"));
    }
}
