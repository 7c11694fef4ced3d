package io.smalti.container;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Node-wide driver settings. Immutable; build with {@link #defaults(String, Path)} and the {@code with...}
 * methods.
 *
 * @param nodeName        this node's name (names the default bridge)
 * @param stateDir        where drivers keep everything per instance (e.g. {@code <node data dir>/containers});
 *                        what is found there after a restart of the node agent is what {@code list()} reports
 * @param javaExecutable  the java that runs the harness
 * @param harnessClasspath jars (or directories) holding {@code io.smalti.harness.HarnessMain} and its dependencies
 * @param jvmOptions      options of the harness JVM
 * @param networkMode     lxc: {@code BRIDGE} (own namespace on the node bridge) or {@code HOST}
 * @param bridgeName      the node bridge (at most 15 characters)
 * @param subnet          the bridge's IPv4 subnet in CIDR form; the bridge takes the first host address
 * @param hubHostForHostMode hub host the harness uses in host mode and under the process driver when the spec
 *                        gives none
 * @param launcherOverride when not empty, replaces {@code java <options> -cp <classpath> HarnessMain}; it gets
 *                        the same configuration on standard input (for tests of the drivers without a hub)
 * @param confinement     the host ids lxc containers run as and the host paths a bundle may mount
 * @param hubLease        how long a harness may be without a hub session (once it had one) before it fences
 *                        itself: stops its component and exits
 */
public record ContainerSettings(String nodeName, Path stateDir, Path javaExecutable, List<Path> harnessClasspath,
        List<String> jvmOptions, NetworkMode networkMode, String bridgeName, String subnet, String hubHostForHostMode,
        List<String> launcherOverride, Confinement confinement, java.time.Duration hubLease) {

    public static final String HARNESS_MAIN = "io.smalti.harness.HarnessMain";
    /**
     * The harness JVM's options. They favour a small, fast-starting process over peak relaying speed (measured in
     * docs/benchmarks.md): C1 only (C2 and its code cost ~3 MiB and 100 ms of start-up per instance), a 1 MiB
     * young generation, and the class-data archive mapped at its fixed address: relocating it dirties every
     * page, ~20 MiB that all harnesses of a node would otherwise share. A node can give others
     * ({@code smalti.components.harness-jvm-options}).
     */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xms4m", "-Xmn1m", "-Xmx32m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=16m", "-Xss256k",
            // Hands the C library's freed memory back. A JDK 17 before 17.0.9 does not know it: ignore it there.
            "-XX:+IgnoreUnrecognizedVMOptions", "-XX:TrimNativeHeapInterval=1000",
            "-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0",
            // Netty's unpooled allocator instead of its adaptive one, whose first chunks a harness never fills:
            // harness PSS 26.7 -> 25.4 MiB, RSS 60.0 -> 58.7 (bench/deploy-bench, 10 instances + 3 per variant).
            // Measured and not worth an option there: MALLOC_ARENA_MAX=1 or 2, -XX:CICompilerCount=1,
            // -Xmx16m -Xss192k, -XX:MetaspaceReclaimPolicy=aggressive (each within 0.1 MiB of the defaults).
            "-Dio.netty.allocator.type=unpooled",
            // C1 compiles a method after 10x the usual calls: start-up's run-once code stays interpreted, the
            // relaying loop still compiles within its first few thousand messages. PSS 25.3 -> 24.3 MiB, RSS
            // 58.3 -> 57.4 (same bench; -Xmn512k gave 0.5 MiB, not taken: half the young generation, twice the
            // young collections while relaying).
            "-XX:CompileThresholdScaling=10");
    /** Where the harness jar lists the jars it needs (written by its build), relative to the jar's directory. */
    static final String HARNESS_CLASSPATH_RESOURCE = "META-INF/smalti/harness.classpath";
    /** Linux IFNAMSIZ - 1. */
    public static final int MAX_INTERFACE_NAME = 15;

    public ContainerSettings {
        Objects.requireNonNull(nodeName, "nodeName");
        stateDir = Objects.requireNonNull(stateDir, "stateDir").toAbsolutePath().normalize();
        Objects.requireNonNull(javaExecutable, "javaExecutable");
        harnessClasspath = List.copyOf(harnessClasspath);
        jvmOptions = List.copyOf(jvmOptions);
        Objects.requireNonNull(networkMode, "networkMode");
        if (bridgeName.isEmpty() || bridgeName.length() > MAX_INTERFACE_NAME || !bridgeName.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("bridgeName: \"" + bridgeName
                    + "\" must be 1 to 15 characters of letters, digits, '-', '_' and '.'");
        }
        Subnet.parse(subnet); // validates
        launcherOverride = List.copyOf(launcherOverride);
        Objects.requireNonNull(confinement, "confinement");
        if (hubLease.toMillis() < 100 || hubLease.toHours() > 1) {
            throw new IllegalArgumentException("hubLease: " + hubLease + " is not between 100 ms and 1 h");
        }
    }

    /** {@link #defaults(String, Path, List)} with {@link #DEFAULT_JVM_OPTIONS}. */
    public static ContainerSettings defaults(String nodeName, Path stateDir) {
        return defaults(nodeName, stateDir, DEFAULT_JVM_OPTIONS);
    }

    /**
     * Defaults: this JVM's java; the harness's own jars and {@code native} directory when this JVM runs from a
     * distribution (the harness jar beside its dependencies), else this JVM's whole class path; the given harness
     * JVM options (plus the native directory); bridge mode on {@code smalti-<node>} with 10.201.1.0/24.
     */
    public static ContainerSettings defaults(String nodeName, Path stateDir, List<String> jvmOptions) {
        List<Path> classpath = currentClasspath();
        List<String> options = new ArrayList<>(jvmOptions);
        Optional<List<Path>> own = distributionClasspath(ContainerSettings.class.getClassLoader()
                .getResource(HARNESS_CLASSPATH_RESOURCE));
        if (own.isPresent()) {
            classpath = own.get();
            Path natives = classpath.get(0).getParent().resolve("native");
            if (Files.isDirectory(natives)) {
                // Netty (BoringSSL, epoll) and JNA load their libraries from here instead of copying them out of
                // their jars at every start.
                options.add("-Djava.library.path=" + natives);
                options.add("-Djna.boot.library.path=" + natives);
            }
        }
        return new ContainerSettings(nodeName, stateDir, currentJava(), classpath, options,
                NetworkMode.BRIDGE, defaultBridgeName(nodeName), "10.201.1.0/24", "127.0.0.1", List.of(),
                Confinement.defaults(), HarnessLaunch.DEFAULT_HUB_LEASE);
    }

    /**
     * The harness jar followed by the jars its build listed, all in the harness jar's directory; empty when the
     * list is not inside a jar (a build tree) or a listed jar is missing.
     */
    static Optional<List<Path>> distributionClasspath(URL listing) {
        if (listing == null || !listing.getProtocol().equals("jar")) {
            return Optional.empty();
        }
        try {
            String spec = listing.getPath(); // file:/.../lib/smalti-harness-x.jar!/META-INF/...
            Path jar = Path.of(new URI(spec.substring(0, spec.indexOf("!/"))));
            String text;
            try (InputStream in = listing.openStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            }
            List<Path> out = new ArrayList<>();
            out.add(jar);
            for (String entry : text.split(":")) {
                if (entry.isBlank()) {
                    continue;
                }
                Path p = jar.resolveSibling(Path.of(entry).getFileName());
                if (!Files.isRegularFile(p)) {
                    return Optional.empty();
                }
                out.add(p);
            }
            return Optional.of(out);
        } catch (IOException | URISyntaxException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** {@code smalti-<node>} cut to 15 characters, with characters an interface name cannot have replaced. */
    public static String defaultBridgeName(String nodeName) {
        String name = ("smalti-" + nodeName).replaceAll("[^A-Za-z0-9_.-]", "-");
        return name.length() > MAX_INTERFACE_NAME ? name.substring(0, MAX_INTERFACE_NAME) : name;
    }

    public ContainerSettings withNetwork(NetworkMode mode, String bridge, String cidr) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, mode, bridge,
                cidr, hubHostForHostMode, launcherOverride, confinement, hubLease);
    }

    public ContainerSettings withHarness(Path java, List<Path> classpath, List<String> options) {
        return new ContainerSettings(nodeName, stateDir, java, classpath, options, networkMode, bridgeName, subnet,
                hubHostForHostMode, launcherOverride, confinement, hubLease);
    }

    public ContainerSettings withLauncherOverride(List<String> command) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, networkMode,
                bridgeName, subnet, hubHostForHostMode, command, confinement, hubLease);
    }

    public ContainerSettings withHubHostForHostMode(String host) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, networkMode,
                bridgeName, subnet, host, launcherOverride, confinement, hubLease);
    }

    public ContainerSettings withConfinement(Confinement c) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, networkMode,
                bridgeName, subnet, hubHostForHostMode, launcherOverride, c, hubLease);
    }

    public ContainerSettings withHubLease(java.time.Duration lease) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, networkMode,
                bridgeName, subnet, hubHostForHostMode, launcherOverride, confinement, lease);
    }

    /** The java home of {@link #javaExecutable} ({@code <home>/bin/java}). */
    public Path javaHome() {
        Path real = javaExecutable.toAbsolutePath();
        try {
            real = real.toRealPath();
        } catch (java.io.IOException e) {
            // keep the given path: the error shows when the harness is started
        }
        Path bin = real.getParent();
        return bin != null && bin.getParent() != null ? bin.getParent() : Path.of(System.getProperty("java.home"));
    }

    private static Path currentJava() {
        return ProcessHandle.current().info().command().map(Path::of)
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    private static List<Path> currentClasspath() {
        List<Path> out = new ArrayList<>();
        Arrays.stream(System.getProperty("java.class.path", "").split(File.pathSeparator))
                .filter(s -> !s.isBlank()).forEach(s -> out.add(Path.of(s).toAbsolutePath()));
        return out;
    }
}
