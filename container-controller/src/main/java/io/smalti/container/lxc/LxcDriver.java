package io.smalti.container.lxc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.jna.LastErrorException;
import io.smalti.bundle.Manifest;
import io.smalti.container.ContainerDriver;
import io.smalti.container.ContainerException;
import io.smalti.container.ContainerSettings;
import io.smalti.container.ContainerSpec;
import io.smalti.container.ContainerState;
import io.smalti.container.HarnessLaunch;
import io.smalti.container.InstanceStore;
import io.smalti.container.NetworkMode;
import io.smalti.container.RunningContainer;
import io.smalti.container.Subnet;
import io.smalti.container.Usage;
import io.smalti.container.net.AddressAllocator;
import io.smalti.container.net.Bridge;
import io.smalti.container.net.PortAllocator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each instance in an unprivileged LXC container: a per-instance overlay of the node's busybox base root
 * filesystem, the bundle read-only at {@code /app}, host runtimes bind-mounted read-only at their own paths,
 * cgroup limits from the manifest, and a veth on the node bridge (or the host network). The harness is the
 * container's init and gets its configuration through a FIFO.
 *
 * <p>Confinement (threat model in docs/security.md): each container has its own user namespace, its ids mapped
 * to the node's host range ({@link Confinement}; container root is never host root), keeps only the
 * capabilities a harness and its component need, runs under seccomp and no_new_privs, may open only the usual
 * pseudo-devices, and its bind mounts are locked read-only (an unprivileged mount namespace cannot remount them).
 * A bundle's host mounts must lie in the node's allow-list.
 *
 * <p>Containers are started by the {@code lxc-start} binary, so each container's monitor is a small C process
 * (~1.5 MiB PSS); a daemonized {@code start()} through liblxc would fork this JVM into every monitor (~114 MiB
 * PSS each, measured with 14). liblxc (JNA) serves what needs no fork: config, state, stop, cgroup items.
 *
 * <p>Everything per instance lives under {@code <state>/instances/<id>} and the container configs under
 * {@code <state>/lxc}, so a restarted agent finds what an earlier run left. Thread-safe: one lock serializes
 * start and destroy (addresses and names are allocated under it); stop, state and usage need no lock.
 */
public final class LxcDriver implements ContainerDriver {
    private static final Logger LOG = LoggerFactory.getLogger(LxcDriver.class);
    /** liblxc versions whose struct lxc_container layout was verified (LXC-NOTES pitfall 4). */
    static final String VERIFIED_VERSION_PREFIX = "5.0.";
    static final Path SECCOMP = Path.of("/usr/share/lxc/config/common.seccomp");
    /**
     * Capabilities a container keeps (in its own user namespace): what a harness as init and a component running
     * as container root need to own files, signal their processes, change ids and bind low ports. Gone among
     * others: sys_admin (mount, remount), mknod, sys_module, sys_rawio, sys_time, sys_ptrace, net_admin, net_raw.
     */
    static final String KEPT_CAPABILITIES = "chown dac_override fowner fsetid kill setgid setuid setpcap"
            + " net_bind_service";
    /** Devices a container may open: null, zero, full, random, urandom, tty, console, ptmx and its ptys. */
    static final List<String> ALLOWED_DEVICES = List.of("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
            "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm");
    static final String INSIDE_CONFIG = "/run/smalti/config";
    static final String INSIDE_INIT = "/run/smalti/init";
    static final String INSIDE_LOG = "/run/smalti/harness.log";
    static final String INSIDE_SOCKET = "/run/smalti/component.sock";
    static final String INSIDE_BUNDLE = "/app";
    private static final long CPU_PERIOD_US = 100_000;
    private static final int CONFIG_WRITE_TIMEOUT_MS = 10_000;
    private static final int LXC_START_TIMEOUT_S = 30;

    private final ContainerSettings settings;
    private final LxcLibrary lxc;
    private final String version;
    private final InstanceStore store;
    /** Machine-wide: a directory per driver state directory, with its lxc path and rootfs mount points. */
    static final Path RUN_ROOT = Path.of("/run/smalti");
    private final Path runDir;
    private final Path configPath;
    private final Subnet subnet;
    private final Path lxcStart;
    private final Object lock = new Object();
    private static final String SHARED_ARCHIVE_OPTION = "-XX:SharedArchiveFile=";
    /** Applies CPU quotas when an instance's start-up allowance runs out. */
    private final java.util.concurrent.ScheduledExecutorService quotaTimer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "lxc-cpu-quota");
                t.setDaemon(true);
                return t;
            });

    /** Loads liblxc and checks its version; throws {@link ContainerException} saying why lxc cannot be used. */
    public LxcDriver(ContainerSettings settings) {
        this.settings = settings;
        this.lxc = loadLibrary();
        this.version = lxc.lxc_get_version();
        if (version == null || !version.startsWith(VERIFIED_VERSION_PREFIX)) {
            throw new ContainerException("liblxc " + version + " is not supported (struct layout verified for "
                    + VERIFIED_VERSION_PREFIX + "x)");
        }
        if (LibC.INSTANCE.geteuid() != 0) {
            throw new ContainerException("the lxc driver needs root (id maps, overlay mounts, the bridge)");
        }
        this.lxcStart = lxcStartBinary();
        this.store = new InstanceStore(settings.stateDir());
        this.runDir = runDir(settings.stateDir());
        this.configPath = runDir.resolve("lxc");
        this.subnet = Subnet.parse(settings.subnet());
        ensureRunDir();
        removeOrphanContainers();
        // Containers an earlier run started: their start-up is long over.
        store.ids().forEach(this::started);
    }

    /**
     * Where the driver of this state directory keeps what a container must reach by path: its lxc path
     * ({@code lxc/<name>/config}) and the rootfs mount points ({@code rootfs/<name>}), under {@link #RUN_ROOT}
     * with a name derived from the state directory (two nodes of one machine never share it). Everything the
     * container writes still goes to the state directory (the overlay's upper layer).
     */
    public static Path runDir(Path stateDir) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(stateDir.toAbsolutePath().normalize()
                    .toString().getBytes(StandardCharsets.UTF_8));
            return RUN_ROOT.resolve(java.util.HexFormat.of().formatHex(h, 0, 6));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The lxc-start binary of the lxc package (/usr/bin, else the PATH). */
    static Path lxcStartBinary() {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/bin/lxc-start")));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isBlank()) {
                candidates.add(Path.of(dir, "lxc-start"));
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst().orElseThrow(() -> new ContainerException(
                "lxc-start is missing (install the lxc package): containers are started with it"));
    }

    static LxcLibrary loadLibrary() {
        try {
            return LxcLibrary.load();
        } catch (UnsatisfiedLinkError e) {
            throw new ContainerException("cannot load " + LxcLibrary.NAME + " (install liblxc1): " + e.getMessage(), e);
        }
    }

    /** The liblxc version in use, e.g. "5.0.2". */
    public String version() {
        return version;
    }

    @Override
    public String name() {
        return "lxc";
    }

    @Override
    public boolean isolates() {
        return true;
    }

    /**
     * The lxc container name of an instance: short enough for logs, prefixed so it is recognisably ours. It
     * takes the id's last 12 hex digits, its random target bits (the first ones are the vnode prefix and the
     * category, shared by many instances of a type).
     */
    static String containerName(String instance) {
        return "smalti-" + instance.substring(instance.length() - 12);
    }

    /** The host end of the instance's veth: at most 15 characters. */
    static String vethName(String instance) {
        return "smv" + instance.substring(instance.length() - 12);
    }

    @Override
    public RunningContainer start(ContainerSpec spec) {
        String id = spec.instance();
        String name = containerName(id);
        synchronized (lock) {
            if (store.exists(id)) {
                throw new ContainerException("instance " + id + " already exists under " + store.dir(id) + " (state "
                        + state(id) + "); destroy it first");
            }
            for (String other : store.ids()) {
                if (containerName(other).equals(name)) {
                    throw new ContainerException("instance " + id + ": container name " + name
                            + " is taken by instance " + other + " (same last 12 hex digits)");
                }
            }
            long t0 = System.nanoTime();
            Path dir = store.dir(id);
            try {
                ensureRunDir();
                Files.createDirectories(dir);
                int root = settings.confinement().idStart();
                Path base = BaseRootfs.ensure(settings.stateDir(), root);
                boolean bridged = settings.networkMode() == NetworkMode.BRIDGE;
                if (bridged) {
                    Bridge.ensure(settings.bridgeName(), subnet);
                }
                Optional<String> address = bridged ? Optional.of(AddressAllocator.allocate(subnet, addressesInUse()))
                        : Optional.empty();
                Map<String, Integer> endpoints = endpoints(spec.manifest(), bridged);

                ObjectNode record = store.newRecord().put("driver", name()).put("instance", id).put("name", name)
                        .put("bundleRoot", spec.bundleRoot().toAbsolutePath().toString());
                address.ifPresent(a -> record.put("address", a).put("veth", vethName(id)));
                record.putPOJO("endpoints", endpoints);
                record.put("cpuQuotaUs", cpuQuota(spec.manifest().resources()));
                store.write(id, record); // first: a crash from here on leaves a dir that list() and destroy() see

                Path upper = dir.resolve("upper");
                Path work = dir.resolve("work");
                Path merged = rootfs(name);
                Files.createDirectories(upper);
                Files.createDirectories(work);
                Files.createDirectories(merged);
                // What the container writes belongs to its root (a mapped id), everything else stays the host's.
                Ids.chown(upper, root);
                Ids.chown(work, root);
                Mounts.overlay(base, upper, work, merged);

                Files.writeString(merged.resolve(INSIDE_INIT.substring(1)), initScript(), StandardCharsets.UTF_8);
                Path log = dir.resolve("harness.log");
                Files.write(log, new byte[0]); // the harness's stdout and stderr, bound in
                Ids.chown(log, root);
                Path fifo = dir.resolve("config.fifo");
                mkfifo(fifo);
                Ids.chown(fifo, root);
                bindMounts(spec, merged, fifo, log);

                String hubHost = bridged ? subnet.gateway() : hostHubHost(spec);
                Map<String, String> env = HarnessLaunch.environment(spec, settings, endpoints);
                byte[] config = HarnessLaunch.config(spec, hubHost, env,
                        HarnessLaunch.directory(INSIDE_BUNDLE, spec.manifest()), INSIDE_SOCKET, settings.hubLease());

                LxcConfig cfg = config(spec, name, dir, merged, address);
                long tPrepared = System.nanoTime();
                long tStarted;
                int initPid;
                try (LxcContainer c = new LxcContainer(lxc, name, configPath.toString())) {
                    if (c.isDefined()) {
                        throw new ContainerException("container " + name + " is already defined in " + configPath);
                    }
                    for (Map.Entry<String, String> e : cfg.items()) {
                        c.set(e.getKey(), e.getValue());
                    }
                    if (!c.saveConfig()) {
                        throw new ContainerException("instance " + id + ": liblxc could not save the config of "
                                + name + " in " + configPath + c.errorSuffix());
                    }
                    startContainer(id, name, dir);
                    initPid = c.initPid();
                    tStarted = System.nanoTime();
                }
                writeConfig(id, fifo, config);
                Files.deleteIfExists(fifo);
                record.put("initPid", initPid);
                ProcessHandle.of(initPid).flatMap(h -> h.info().startInstant())
                        .ifPresent(t -> record.put("initStartMillis", t.toEpochMilli()));
                store.write(id, record);
                long tEnd = System.nanoTime();
                LOG.info("instance {}: container {} started in {} ms (prepare {}, lxc-start {}, config pipe {}),"
                        + " init pid {}{}", id, name, (tEnd - t0) / 1_000_000, (tPrepared - t0) / 1_000_000,
                        (tStarted - tPrepared) / 1_000_000, (tEnd - tStarted) / 1_000_000, initPid,
                        address.map(a -> ", address " + a).orElse(""));
                quotaTimer.schedule(() -> started(id), STARTUP_ALLOWANCE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                return new RunningContainer(id, initPid, address, endpoints);
            } catch (IOException | RuntimeException e) {
                try {
                    destroyLocked(id);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                if (e instanceof ContainerException ce) {
                    throw ce;
                }
                throw new ContainerException("instance " + id + ": cannot start container " + name + ": " + e, e);
            }
        }
    }

    /**
     * Starts a defined container with {@code lxc-start} (daemonized: it returns once the container runs, leaving
     * its monitor behind). Its output goes to a file: the monitor keeps the descriptors it inherited.
     */
    private void startContainer(String id, String name, Path dir) throws IOException {
        Path out = dir.resolve("lxc-start.out");
        Process p = new ProcessBuilder(lxcStart.toString(), "-d", "-P", configPath.toString(), "-n", name)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            if (!p.waitFor(LXC_START_TIMEOUT_S, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ContainerException("instance " + id + ": lxc-start of " + name + " did not return within "
                        + LXC_START_TIMEOUT_S + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new ContainerException("instance " + id + ": interrupted while starting " + name);
        }
        if (p.exitValue() != 0) {
            String said = Files.readString(out).strip().replace('\n', ' ');
            throw new ContainerException("instance " + id + ": lxc-start could not start container " + name
                    + " (exit " + p.exitValue() + (said.isEmpty() ? "" : ": " + said) + "); " + tail(dir.resolve("lxc.log")));
        }
    }

    /**
     * Creates the runtime directory if missing (the last container's destroy and {@link #close} remove it). A
     * container starts as a mapped id, which must be able to pass through to the lxc path and its rootfs (lxc
     * refuses otherwise: "Could not access ... grant it x access"); a data directory under /root or another
     * owner-only directory is not passable. So those live here: passable, not listable.
     */
    private void ensureRunDir() {
        try {
            for (Path d : List.of(RUN_ROOT, runDir, configPath, runDir.resolve("rootfs"))) {
                if (!Files.isDirectory(d)) {
                    Files.createDirectories(d);
                    Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
                }
            }
        } catch (IOException e) {
            throw new ContainerException("cannot create " + configPath + ": " + e, e);
        }
    }

    /** The rootfs mount point of a container. */
    private Path rootfs(String name) {
        return runDir.resolve("rootfs").resolve(name);
    }

    /**
     * Binds what the container needs into its rootfs, from here (host root): the bundle at /app, the runtimes,
     * the manifest's allowed mounts, all read-only, and the configuration FIFO and the harness log. lxc's own
     * mount entries would be made by the container's mapped root, which cannot reach sources below an
     * owner-only directory. The rootfs carries them into the container, where they are locked: a mount
     * namespace owned by an unprivileged user namespace cannot remount them writable, nor unmount them.
     */
    private void bindMounts(ContainerSpec spec, Path merged, Path fifo, Path log) {
        Mounts.bind(spec.bundleRoot().toAbsolutePath(), inside(merged, INSIDE_BUNDLE), true);
        for (Path p : runtimeMounts()) {
            Mounts.bind(p, inside(merged, p.toString()), true);
        }
        for (Manifest.Mount m : spec.manifest().mounts()) {
            Path host;
            try {
                host = settings.confinement().allowedHostPath(m.host());
            } catch (ContainerException e) {
                throw new ContainerException("instance " + spec.instance() + ": " + e.getMessage() + " (to " + m.path()
                        + ")");
            }
            Mounts.bind(host, inside(merged, m.path()), true);
        }
        Mounts.bind(fifo, inside(merged, INSIDE_CONFIG), false);
        Mounts.bind(log, inside(merged, INSIDE_LOG), false);
    }

    /** A path inside the container as a host path below its rootfs; refuses one that would lead out. */
    private static Path inside(Path merged, String path) {
        Path p = merged.resolve(path.startsWith("/") ? path.substring(1) : path).normalize();
        if (!p.startsWith(merged) || p.equals(merged)) {
            throw new ContainerException("mount target " + path + " is not a path inside the container");
        }
        return p;
    }

    private LxcConfig config(ContainerSpec spec, String name, Path dir, Path merged, Optional<String> address) {
        LxcConfig cfg = new LxcConfig()
                .set("lxc.uts.name", name)
                .set("lxc.rootfs.path", "dir:" + merged)
                .set("lxc.autodev", "1")
                // sysfs can only be mounted in a network namespace the container's user namespace owns: with
                // the host's network (host mode) it has no /sys, only its cgroups (what a JVM reads there).
                .set("lxc.mount.auto", address.isPresent() ? "proc:mixed sys:ro cgroup:mixed:force"
                        : "proc:mixed cgroup:mixed:force")
                .set("lxc.seccomp.profile", SECCOMP.toString())
                .set("lxc.cgroup.relative", "1")
                .set("lxc.signal.halt", "SIGTERM")
                .set("lxc.idmap", "u 0 " + settings.confinement().idStart() + " " + settings.confinement().idCount())
                .set("lxc.idmap", "g 0 " + settings.confinement().idStart() + " " + settings.confinement().idCount())
                .set("lxc.cap.keep", KEPT_CAPABILITIES)
                .set("lxc.no_new_privs", "1")
                .set("lxc.init.cmd", "/bin/sh " + INSIDE_INIT)
                .set("lxc.console.path", "none")
                .set("lxc.log.file", dir.resolve("lxc.log").toString())
                .set("lxc.log.level", "WARN");
        if (address.isPresent()) {
            cfg.set("lxc.net.0.type", "veth")
                    .set("lxc.net.0.link", settings.bridgeName())
                    .set("lxc.net.0.flags", "up")
                    .set("lxc.net.0.name", "eth0")
                    .set("lxc.net.0.veth.pair", vethName(spec.instance()))
                    .set("lxc.net.0.ipv4.address", address.get() + "/" + subnet.prefix() + " " + subnet.broadcast())
                    .set("lxc.net.0.ipv4.gateway", subnet.gateway());
        } else {
            cfg.set("lxc.net.0.type", "none");
        }
        limits(cfg, spec.manifest().resources());
        devices(cfg);
        return cfg;
    }

    /** The manifest's CPU share as a CFS quota per period (at least 1 ms). */
    static long cpuQuota(Manifest.Resources r) {
        return Math.max(1000, Math.round(r.cpu() * CPU_PERIOD_US));
    }

    /** Applies the CPU quota recorded for the instance, once (the start-up allowance is over). */
    @Override
    public void started(String instance) {
        Optional<com.fasterxml.jackson.databind.JsonNode> record = store.read(instance);
        if (record.isEmpty() || !record.get().has("cpuQuotaUs") || record.get().path("cpuLimited").asBoolean()) {
            return;
        }
        long quota = record.get().path("cpuQuotaUs").asLong();
        synchronized (lock) {
            try (LxcContainer c = new LxcContainer(lxc, containerName(instance), configPath.toString())) {
                if (!c.isRunning()) {
                    return;
                }
                boolean ok = Cgroups.v1Memory() ? c.setCgroupItem("cpu.cfs_quota_us", Long.toString(quota))
                        : c.setCgroupItem("cpu.max", quota + " " + CPU_PERIOD_US);
                if (!ok) {
                    LOG.warn("instance {}: liblxc could not set its CPU quota ({} us per {} us){}", instance, quota,
                            CPU_PERIOD_US, c.errorSuffix());
                    return;
                }
            }
            store.read(instance).ifPresent(r -> store.write(instance, ((ObjectNode) r).put("cpuLimited", true)));
        }
        LOG.debug("instance {}: CPU quota {} us per {} us in force", instance, quota, CPU_PERIOD_US);
    }

    /** Denies every device but {@link #ALLOWED_DEVICES}, through the hierarchy the devices controller is on. */
    private static void devices(LxcConfig cfg) {
        String prefix = Cgroups.v1Devices() ? "lxc.cgroup.devices." : "lxc.cgroup2.devices.";
        cfg.set(prefix + "deny", "a");
        ALLOWED_DEVICES.forEach(d -> cfg.set(prefix + "allow", d));
    }

    @Override
    public Optional<String> refusal(Manifest manifest) {
        return settings.confinement().refusal(manifest, settings.nodeName());
    }

    /** Limits through the keys of the hierarchy this host has: v1 controllers, else pure v2. */
    private static void limits(LxcConfig cfg, Manifest.Resources r) {
        long memory = r.memoryBytes();
        if (Cgroups.v1Memory()) {
            cfg.set("lxc.cgroup.memory.limit_in_bytes", Long.toString(memory));
            Path own = Cgroups.selfMemory();
            if (own != null && Files.exists(own.resolve("memory.memsw.limit_in_bytes"))) {
                cfg.set("lxc.cgroup.memory.memsw.limit_in_bytes", Long.toString(memory)); // no swap beyond it
            }
            // The CPU quota comes once the instance has started (see started()): its JVMs start unthrottled.
            cfg.set("lxc.cgroup.cpu.cfs_period_us", Long.toString(CPU_PERIOD_US));
            cfg.set("lxc.cgroup.pids.max", Integer.toString(r.pids()));
        } else {
            cfg.set("lxc.cgroup2.memory.max", Long.toString(memory));
            cfg.set("lxc.cgroup2.pids.max", Integer.toString(r.pids()));
        }
    }

    /**
     * Host directories bind-mounted read-only at their own paths, each only once: the JRE (its libraries, its
     * configuration, java.home) and the harness class path. The harness is a JVM whatever the component is
     * written in, so these are there with or without the "java" runtime in the manifest; that runtime adds
     * {@code <java.home>/bin} to the component's PATH.
     */
    private List<Path> runtimeMounts() {
        TreeSet<Path> wanted = new TreeSet<>();
        for (String d : List.of("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/java-17-openjdk")) {
            Path p = Path.of(d);
            if (Files.isDirectory(p) && !Files.isSymbolicLink(p)) { // Debian's /lib is a link: the base mirrors it
                wanted.add(p);
            }
        }
        wanted.add(settings.javaHome());
        for (Path entry : settings.harnessClasspath()) {
            Path abs = entry.toAbsolutePath().normalize();
            wanted.add(Files.isDirectory(abs) ? abs : abs.getParent());
        }
        // The harness's class-data archive, when its options name one (it starts faster with it).
        for (String option : settings.jvmOptions()) {
            if (option.startsWith(SHARED_ARCHIVE_OPTION)) {
                wanted.add(Path.of(option.substring(SHARED_ARCHIVE_OPTION.length())).toAbsolutePath().normalize().getParent());
            }
        }
        // Drop paths already inside another mounted path: the outer bind shows them.
        List<Path> out = new ArrayList<>();
        for (Path p : wanted) {
            if (out.stream().noneMatch(p::startsWith) && Files.isDirectory(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** The init: a shell that becomes the harness (exec: the JVM is PID 1) with its stdin on the config FIFO. */
    private String initScript() {
        String cmd = HarnessLaunch.command(settings).stream().map(LxcDriver::quote).collect(Collectors.joining(" "));
        return "#!/bin/sh\n# written by the smalti lxc driver: the harness reads its configuration from the FIFO\n"
                + "cd " + INSIDE_BUNDLE + " || cd /\nexec " + cmd + " < " + INSIDE_CONFIG + " >> " + INSIDE_LOG
                + " 2>&1\n";
    }

    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static void mkfifo(Path fifo) {
        try {
            LibC.INSTANCE.mkfifo(fifo.toString(), 0600);
        } catch (LastErrorException e) {
            throw new ContainerException("cannot create the configuration FIFO " + fifo + ": errno " + e.getErrorCode());
        }
    }

    /**
     * Writes the harness configuration into the FIFO once the harness opened it for reading. The open is
     * non-blocking and retried, so a harness that never reads cannot hang the driver (ENXIO: no reader yet).
     */
    private static void writeConfig(String id, Path fifo, byte[] config) {
        long deadline = System.nanoTime() + CONFIG_WRITE_TIMEOUT_MS * 1_000_000L;
        int fd = -1;
        while (fd < 0) {
            try {
                fd = LibC.INSTANCE.open(fifo.toString(), LibC.O_WRONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != LibC.ENXIO && e.getErrorCode() != LibC.EINTR) {
                    throw new ContainerException("instance " + id + ": cannot open the configuration FIFO " + fifo
                            + ": errno " + e.getErrorCode());
                }
                if (System.nanoTime() > deadline) {
                    throw new ContainerException("instance " + id + ": the harness did not open its configuration"
                            + " pipe within " + CONFIG_WRITE_TIMEOUT_MS + " ms");
                }
                sleep(2);
            }
        }
        try {
            int off = 0;
            while (off < config.length) {
                byte[] chunk = off == 0 ? config : java.util.Arrays.copyOfRange(config, off, config.length);
                try {
                    off += (int) LibC.INSTANCE.write(fd, chunk, chunk.length);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != LibC.EAGAIN && e.getErrorCode() != LibC.EINTR) {
                        throw new ContainerException("instance " + id + ": writing the configuration FIFO failed:"
                                + " errno " + e.getErrorCode());
                    }
                    if (System.nanoTime() > deadline) {
                        throw new ContainerException("instance " + id + ": the harness stopped reading its"
                                + " configuration pipe");
                    }
                    sleep(2);
                }
            }
        } finally {
            LibC.INSTANCE.close(fd); // end of file for the harness
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerException("interrupted");
        }
    }

    private String hostHubHost(ContainerSpec spec) {
        return spec.hubHostForHost() == null || spec.hubHostForHost().isBlank() ? settings.hubHostForHostMode()
                : spec.hubHostForHost();
    }

    /** Bridge mode: the container's own ports; host mode: free host ports (the harness passes SMALTI_PORT_*). */
    private Map<String, Integer> endpoints(Manifest m, boolean bridged) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Set<Integer> inUse = bridged ? Set.of() : portsInUse();
        Set<Integer> taken = new HashSet<>(inUse);
        for (Manifest.Endpoint e : m.endpoints()) {
            int port = bridged ? e.port() : PortAllocator.allocate(taken);
            taken.add(port);
            out.put(e.name(), port);
        }
        return out;
    }

    private Set<String> addressesInUse() {
        Set<String> out = new HashSet<>();
        for (String id : store.ids()) {
            store.read(id).map(r -> r.path("address").asText("")).filter(a -> !a.isEmpty()).ifPresent(out::add);
        }
        return out;
    }

    private Set<Integer> portsInUse() {
        Set<Integer> out = new HashSet<>();
        for (String id : store.ids()) {
            store.read(id).map(r -> r.get("endpoints")).ifPresent(e -> e.forEach(p -> out.add(p.asInt())));
        }
        return out;
    }

    @Override
    public void stop(String instance, Duration grace) {
        if (!store.exists(instance)) {
            return;
        }
        try (LxcContainer c = new LxcContainer(lxc, containerName(instance), configPath.toString())) {
            if (!c.isRunning()) {
                return;
            }
            int pid = c.initPid();
            if (pid > 0 && grace.toMillis() > 0) {
                try {
                    LibC.INSTANCE.kill(pid, LibC.SIGTERM); // = lxc.signal.halt; the harness forwards it
                } catch (LastErrorException e) {
                    // init exited meanwhile
                }
                long deadline = System.nanoTime() + grace.toNanos();
                while (System.nanoTime() < deadline && c.isRunning()) {
                    sleep(10);
                }
            }
            if (c.isRunning()) {
                if (grace.toMillis() > 0) {
                    LOG.warn("instance {}: container did not stop within {} ms of SIGTERM; killing it", instance,
                            grace.toMillis());
                }
                c.stop();
            }
            if (!c.waitFor("STOPPED", 10)) {
                throw new ContainerException("instance " + instance + ": container " + containerName(instance)
                        + " did not stop within 10 s of SIGKILL (state " + c.state() + ")");
            }
        }
    }

    @Override
    public void destroy(String instance) {
        synchronized (lock) {
            destroyLocked(instance);
        }
    }

    private void destroyLocked(String instance) {
        String name = containerName(instance);
        Path dir = store.dir(instance);
        Optional<JsonNode> record = store.exists(instance) ? store.read(instance) : Optional.empty();
        if (record.isPresent() && record.get().hasNonNull("name")) {
            name = record.get().get("name").asText();
        }
        // An earlier version kept its containers' lxc path in the state directory: one it started is stopped
        // there (after an upgrade), never left running.
        Path legacy = settings.stateDir().resolve("lxc");
        if (Files.isDirectory(legacy.resolve(name))) {
            try (LxcContainer old = new LxcContainer(lxc, name, legacy.toString())) {
                if (old.isRunning()) {
                    old.stop();
                    old.waitFor("STOPPED", 10);
                }
            }
            try {
                InstanceStore.deleteTree(legacy.resolve(name));
            } catch (IOException e) {
                LOG.warn("instance {}: cannot remove {}: {}", instance, legacy.resolve(name), e.toString());
            }
        }
        try (LxcContainer c = new LxcContainer(lxc, name, configPath.toString())) {
            if (c.isRunning()) {
                c.stop();
                if (!c.waitFor("STOPPED", 10)) {
                    throw new ContainerException("instance " + instance + ": container " + name
                            + " did not stop within 10 s of SIGKILL (state " + c.state() + ")");
                }
            }
            List<String> left = new ArrayList<>(Mounts.unmountAll(rootfs(name)));
            left.addAll(Mounts.unmountAll(dir)); // where an earlier version mounted the rootfs
            if (!left.isEmpty()) {
                throw new ContainerException("instance " + instance + ": still mounted after unmounting: " + left);
            }
            // No liblxc destroy(): for a container with an id map it deletes the rootfs from a fork of this JVM.
            // What it would delete is the config directory and the (now empty) rootfs, removed below.
        }
        try {
            InstanceStore.deleteTree(configPath.resolve(name));
            Files.deleteIfExists(rootfs(name)); // empty once unmounted: never delete through a mount
            InstanceStore.deleteTree(dir);
        } catch (IOException e) {
            throw new ContainerException("instance " + instance + ": cannot remove " + dir + ": " + e, e);
        }
        List<Path> cgroups = Cgroups.removeLeftovers(name);
        if (!cgroups.isEmpty()) {
            LOG.warn("instance {}: cgroup directories left that could not be removed: {}", instance, cgroups);
        }
    }

    @Override
    public ContainerState state(String instance) {
        if (!store.exists(instance)) {
            return ContainerState.ABSENT;
        }
        try (LxcContainer c = new LxcContainer(lxc, containerName(instance), configPath.toString())) {
            if (c.isRunning()) {
                return ContainerState.RUNNING;
            }
        }
        // liblxc asks the container's monitor through its command socket, and on a loaded machine that can
        // fail and read as "stopped": a running instance was once destroyed as ended. Its init process is the
        // ground truth (the same process, not a reused pid: it started when the record says).
        Optional<com.fasterxml.jackson.databind.JsonNode> record = store.read(instance);
        long pid = record.map(r -> r.path("initPid").asLong(0)).orElse(0L);
        if (pid > 0 && ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .flatMap(h -> h.info().startInstant()).map(Instant::toEpochMilli)
                .filter(started -> Math.abs(started - record.get().path("initStartMillis").asLong(started)) < 2000)
                .isPresent()) {
            LOG.info("instance {}: liblxc says its container is not running, but its init {} runs", instance, pid);
            return ContainerState.RUNNING;
        }
        return ContainerState.STOPPED;
    }

    @Override
    public Optional<Usage> usage(String instance) {
        if (!store.exists(instance)) {
            return Optional.empty();
        }
        try (LxcContainer c = new LxcContainer(lxc, containerName(instance), configPath.toString())) {
            if (!c.isRunning()) {
                return Optional.empty();
            }
            if (Cgroups.v1Memory()) {
                long memory = number(c.cgroupItem("memory.usage_in_bytes"));
                long cpu = number(c.cgroupItem("cpuacct.usage"));
                long pids = number(c.cgroupItem("pids.current"));
                return Optional.of(new Usage(memory, cpu, (int) pids));
            }
            long memory = number(c.cgroupItem("memory.current"));
            long cpu = 0;
            String stat = c.cgroupItem("cpu.stat");
            if (stat != null) {
                for (String line : stat.split("\n")) {
                    if (line.startsWith("usage_usec ")) {
                        cpu = Long.parseLong(line.substring(11).strip()) * 1000;
                    }
                }
            }
            return Optional.of(new Usage(memory, cpu, (int) number(c.cgroupItem("pids.current"))));
        }
    }

    /** A cgroup value of the running container (e.g. "memory.limit_in_bytes"), for checks and metrics. */
    public Optional<String> cgroupItem(String instance, String item) {
        try (LxcContainer c = new LxcContainer(lxc, containerName(instance), configPath.toString())) {
            return Optional.ofNullable(c.isRunning() ? c.cgroupItem(item) : null);
        }
    }

    private static long number(String s) {
        if (s == null || s.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(s.strip().split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public List<String> list() {
        return store.ids();
    }

    /** Deletes the node bridge if no container uses it (for tests and node removal); returns whether it is gone. */
    public boolean removeNetwork() {
        synchronized (lock) {
            return Bridge.deleteIfUnused(settings.bridgeName());
        }
    }

    @Override
    public void close() {
        // Containers keep running; liblxc holds nothing between calls (each opens and puts its own object).
        quotaTimer.shutdownNow();
        // The runtime directory goes with the last container (a node stopping destroys its own first).
        synchronized (lock) {
            try {
                for (Path d : List.of(configPath, runDir.resolve("rootfs"), runDir)) {
                    try (var entries = Files.list(d)) {
                        if (entries.findAny().isPresent()) {
                            return;
                        }
                    }
                    Files.deleteIfExists(d);
                }
                try (var others = Files.list(RUN_ROOT)) {
                    if (others.findAny().isEmpty()) {
                        Files.deleteIfExists(RUN_ROOT);
                    }
                }
            } catch (IOException e) {
                LOG.debug("runtime directory {} kept: {}", runDir, e.toString());
            }
        }
    }

    /**
     * Containers in the config path that no instance record names: left by a crash between creating the
     * container and writing the record, or while destroying. Nothing maps them to an instance any more, so they
     * are killed and removed.
     */
    private void removeOrphanContainers() {
        Set<String> known = new HashSet<>();
        for (String id : store.ids()) {
            known.add(store.read(id).map(r -> r.path("name").asText(containerName(id))).orElse(containerName(id)));
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(configPath)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!known.contains(n) && n.startsWith("smalti-")) {
                    LOG.warn("removing container {} in {}: no instance record names it", n, configPath);
                    try (LxcContainer c = new LxcContainer(lxc, n, configPath.toString())) {
                        if (c.isRunning()) {
                            c.stop();
                            c.waitFor("STOPPED", 10);
                        }
                    }
                    InstanceStore.deleteTree(p);
                    Cgroups.removeLeftovers(n);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot scan {} for orphaned containers: {}", configPath, e.toString());
        }
    }

    private static String tail(Path log) {
        try {
            if (!Files.exists(log)) {
                return "no lxc log";
            }
            List<String> lines = Files.readAllLines(log);
            // The first errors say what went wrong; what follows is lxc cleaning up after them.
            List<String> errors = lines.stream().filter(l -> l.contains(" ERROR ")).limit(3).toList();
            List<String> shown = errors.isEmpty() ? lines.subList(Math.max(0, lines.size() - 5), lines.size()) : errors;
            return "lxc log " + log + ": " + String.join(" | ", shown);
        } catch (IOException e) {
            return "lxc log " + log + " unreadable";
        }
    }
}
