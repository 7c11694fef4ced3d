package io.smalti.container.net;

import io.smalti.container.ContainerException;
import io.smalti.container.Subnet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The node bridge, managed with {@code ip} (iproute2). Stateless; callers serialize changes. */
public final class Bridge {
    private Bridge() {
    }

    public static boolean exists(String name) {
        return Files.exists(Path.of("/sys/class/net", name));
    }

    /** Creates the bridge with the subnet's first address unless it exists; brings it up either way. */
    public static void ensure(String name, Subnet subnet) {
        if (!exists(name)) {
            ip("link", "add", name, "type", "bridge");
            ip("addr", "add", subnet.gateway() + "/" + subnet.prefix(), "broadcast", subnet.broadcast(), "dev", name);
        }
        if (!isUp(name)) {
            ip("link", "set", name, "up");
        }
    }

    /** IFF_UP in the interface flags (operstate stays "down" on a bridge without ports, so it cannot tell). */
    static boolean isUp(String name) {
        try {
            String flags = Files.readString(Path.of("/sys/class/net", name, "flags")).strip();
            return (Integer.decode(flags) & 1) != 0;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    /** Interfaces enslaved to the bridge (the host ends of container veths). */
    public static List<String> ports(String name) {
        List<String> out = new ArrayList<>();
        Path dir = Path.of("/sys/class/net", name, "brif");
        if (Files.isDirectory(dir)) {
            try (var s = Files.list(dir)) {
                s.forEach(p -> out.add(p.getFileName().toString()));
            } catch (IOException e) {
                // gone meanwhile: no ports
            }
        }
        return out;
    }

    /** Deletes the bridge if it exists and no interface is attached; returns whether it is gone. */
    public static boolean deleteIfUnused(String name) {
        if (!exists(name)) {
            return true;
        }
        if (!ports(name).isEmpty()) {
            return false;
        }
        ip("link", "delete", name, "type", "bridge");
        return !exists(name);
    }

    public static boolean interfaceExists(String name) {
        return Files.exists(Path.of("/sys/class/net", name));
    }

    static void ip(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ipBinary());
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ContainerException(String.join(" ", cmd) + ": did not finish in 10 s");
            }
            if (p.exitValue() != 0) {
                throw new ContainerException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): "
                        + new String(out, StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw new ContainerException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException(String.join(" ", cmd) + ": interrupted", e);
        }
    }

    private static String ipBinary() {
        for (String p : new String[] {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "ip";
    }
}
