package io.smalti.container;

import io.smalti.bundle.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What confines a node's containers beyond their namespaces: the host ids an lxc container's ids are mapped to
 * (container root is host uid {@code idStart}, never 0), and the host paths a bundle may bind-mount (read-only,
 * and only at or below an allowed path). Immutable and thread-safe.
 *
 * @param idStart       the first host uid and gid of this node's containers; they get {@code idCount} ids from
 *                      there. Different nodes of one machine need disjoint ranges, so that one node's containers
 *                      own nothing of another's.
 * @param idCount       how many ids a container has (65536: the usual 16-bit range, so "nobody" exists inside)
 * @param allowedMounts host paths (resolved, absolute) at or below which a bundle's {@code mounts} may point
 */
public record Confinement(int idStart, int idCount, List<Path> allowedMounts) {
    /** The usual size of a container's id range. */
    public static final int ID_COUNT = 65536;
    /**
     * What a JRE inside a container may need from the host besides what the driver mounts itself: the JDKs,
     * their configuration and CA certificates, and time zones. Read-only, like every bundle mount.
     */
    public static final List<Path> DEFAULT_ALLOWED_MOUNTS = List.of(Path.of("/usr/lib/jvm"),
            Path.of("/etc/java-17-openjdk"), Path.of("/etc/ssl/certs"), Path.of("/usr/share/zoneinfo"));

    public Confinement {
        if (idStart < 1 || idCount < 1 || (long) idStart + idCount > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("container id range " + idStart + "+" + idCount
                    + " must start above 0 (host root) and end below 2^32 - 1");
        }
        // Resolved once (a link in the configuration is followed here, not at every check).
        allowedMounts = allowedMounts.stream().map(Confinement::resolved).toList();
    }

    /** Ids from 100000, the default allow-list. */
    public static Confinement defaults() {
        return new Confinement(100_000, ID_COUNT, DEFAULT_ALLOWED_MOUNTS);
    }

    /** The id range {@code slot} of a machine: 100000 + 65536 × slot (slot 0..255, e.g. a node's subnet byte). */
    public static int idStartOfSlot(int slot) {
        if (slot < 0 || slot > 255) {
            throw new IllegalArgumentException("id slot " + slot + " is not in 0..255");
        }
        return 100_000 + ID_COUNT * slot;
    }

    /**
     * Why this node refuses the manifest's host mounts, or empty when it allows them all. A mount is allowed
     * when its host path, with links resolved, lies at or below an allowed path (so a link cannot lead out).
     */
    public Optional<String> refusal(Manifest manifest, String node) {
        for (Manifest.Mount m : manifest.mounts()) {
            Optional<String> why = refusal(Path.of(m.host()));
            if (why.isPresent()) {
                return Optional.of("mount " + m.host() + " -> " + m.path() + " is refused on node " + node + ": "
                        + why.get());
            }
        }
        return Optional.empty();
    }

    /** The real host path of an allowed mount; throws {@link ContainerException} saying why it is refused. */
    public Path allowedHostPath(String host) {
        Path p = Path.of(host);
        refusal(p).ifPresent(why -> {
            throw new ContainerException("mount " + host + ": " + why);
        });
        return resolved(p);
    }

    /** The real path of an existing path, else the absolute normalized one. */
    private static Path resolved(Path p) {
        try {
            return Files.exists(p) ? p.toRealPath() : p.toAbsolutePath().normalize();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private Optional<String> refusal(Path host) {
        if (!host.isAbsolute()) {
            return Optional.of(host + " is not an absolute path");
        }
        Path real;
        try {
            real = host.toRealPath();
        } catch (IOException e) {
            return Optional.of(host + " does not exist on this node");
        }
        if (allowedMounts.stream().anyMatch(real::startsWith)) {
            return Optional.empty();
        }
        return Optional.of((real.equals(host) ? host.toString() : host + " (" + real + ")")
                + " is not in the node's allowed host paths " + allowedMounts
                + " (an operator may add it to smalti.components.mount-allow)");
    }
}
