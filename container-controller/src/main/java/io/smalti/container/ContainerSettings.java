package io.smalti.container;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

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
 */
public record ContainerSettings(String nodeName, Path stateDir, Path javaExecutable, List<Path> harnessClasspath,
        List<String> jvmOptions, NetworkMode networkMode, String bridgeName, String subnet, String hubHostForHostMode,
        List<String> launcherOverride) {

    public static final String HARNESS_MAIN = "io.smalti.harness.HarnessMain";
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xms8m", "-Xmx32m", "-XX:+UseSerialGC",
            "-XX:CICompilerCount=2", "-XX:ReservedCodeCacheSize=32m", "-Xss256k",
            // Hands the C library's freed memory (the C2 compiler's start-up peak) back: ~6 MiB of RSS, no
            // measurable cost (docs/benchmarks.md). A JDK 17 before 17.0.9 does not know it: ignore it there.
            "-XX:+IgnoreUnrecognizedVMOptions", "-XX:TrimNativeHeapInterval=1000");
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
    }

    /** Defaults: this JVM's java and class path, bridge mode on {@code smalti-<node>} with 10.201.1.0/24. */
    public static ContainerSettings defaults(String nodeName, Path stateDir) {
        return new ContainerSettings(nodeName, stateDir, currentJava(), currentClasspath(), DEFAULT_JVM_OPTIONS,
                NetworkMode.BRIDGE, defaultBridgeName(nodeName), "10.201.1.0/24", "127.0.0.1", List.of());
    }

    /** {@code smalti-<node>} cut to 15 characters, with characters an interface name cannot have replaced. */
    public static String defaultBridgeName(String nodeName) {
        String name = ("smalti-" + nodeName).replaceAll("[^A-Za-z0-9_.-]", "-");
        return name.length() > MAX_INTERFACE_NAME ? name.substring(0, MAX_INTERFACE_NAME) : name;
    }

    public ContainerSettings withNetwork(NetworkMode mode, String bridge, String cidr) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, mode, bridge,
                cidr, hubHostForHostMode, launcherOverride);
    }

    public ContainerSettings withHarness(Path java, List<Path> classpath, List<String> options) {
        return new ContainerSettings(nodeName, stateDir, java, classpath, options, networkMode, bridgeName, subnet,
                hubHostForHostMode, launcherOverride);
    }

    public ContainerSettings withLauncherOverride(List<String> command) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, networkMode,
                bridgeName, subnet, hubHostForHostMode, command);
    }

    public ContainerSettings withHubHostForHostMode(String host) {
        return new ContainerSettings(nodeName, stateDir, javaExecutable, harnessClasspath, jvmOptions, networkMode,
                bridgeName, subnet, host, launcherOverride);
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
