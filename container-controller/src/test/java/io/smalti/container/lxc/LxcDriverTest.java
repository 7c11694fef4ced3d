package io.smalti.container.lxc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smalti.container.ContainerDrivers;
import io.smalti.container.ContainerSettings;
import io.smalti.container.ContainerSpec;
import io.smalti.container.ContainerState;
import io.smalti.container.NetworkMode;
import io.smalti.container.RunningContainer;
import io.smalti.container.TestBundles;
import io.smalti.container.Usage;
import io.smalti.container.net.Bridge;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Real containers through liblxc; skipped (with the reason) where lxc cannot run. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LxcDriverTest {
    static final String BRIDGE = "smt-test0";
    static final String SUBNET = "10.252.7.0/24";
    /**
     * Stands in for the harness as the container's init (busybox sh, PID 1): saves the configuration it reads
     * from the pipe and what it sees, then idles until SIGTERM.
     */
    static final List<String> FAKE_HARNESS = List.of("/bin/sh", "-c",
            "cat > /tmp/config.json; ls /proc > /tmp/proc.txt; ls /proc/$$/fd > /tmp/fds.txt; echo $$ > /tmp/pid.txt;"
                    + " ls /app > /tmp/app.txt; trap 'echo term > /tmp/term.txt; exit 0' TERM;"
                    + " while true; do sleep 1 & wait $!; done");

    Path tmp;
    ContainerSettings settings;
    LxcDriver driver;
    List<String> jvmCgroupBefore;

    @BeforeAll
    void setUp() throws Exception {
        String why = ContainerDrivers.lxcUnavailableReason();
        Assumptions.assumeTrue(why == null, "lxc tests need root, busybox-static, lxc and overlayfs: " + why);
        try {
            LxcDriver.loadLibrary();
        } catch (RuntimeException | LinkageError e) {
            Assumptions.assumeTrue(false, "lxc tests need liblxc1: " + e.getMessage());
        }
        // Short path: the state dir appears in mount options and lxc paths.
        tmp = Files.createTempDirectory(Path.of("/tmp"), "smcc");
        settings = ContainerSettings.defaults("test", tmp.resolve("state"))
                .withNetwork(NetworkMode.BRIDGE, BRIDGE, SUBNET)
                .withLauncherOverride(FAKE_HARNESS);
        driver = new LxcDriver(settings);
        jvmCgroupBefore = Files.readAllLines(Path.of("/proc/self/cgroup"));
    }

    @AfterEach
    void destroyAll() {
        if (driver != null) {
            for (String id : driver.list()) {
                driver.destroy(id);
            }
        }
    }

    @AfterAll
    void tearDown() throws IOException {
        if (driver == null) {
            return;
        }
        destroyAll();
        assertTrue(driver.removeNetwork(), "the test bridge is still in use");
        assertFalse(Bridge.exists(BRIDGE));
        assertEquals(List.of(), Mounts.under(tmp), "mounts left");
        driver.close();
        assertFalse(Files.exists(LxcDriver.runDir(settings.stateDir())), "runtime directory left");
        io.smalti.container.InstanceStore.deleteTree(tmp);
    }

    private ContainerSpec spec(String id, String manifestBody) throws IOException {
        return TestBundles.spec(id, TestBundles.bundle(tmp, manifestBody), "PEM");
    }

    private Path inside(String id, String path) {
        return settings.stateDir().resolve("instances").resolve(id).resolve("upper").resolve(path);
    }

    @Test
    void isolatedLimitedConfiguredThroughThePipeStoppedFastAndLeavesNothing() throws Exception {
        String id = TestBundles.newId();
        String name = LxcDriver.containerName(id);
        long t0 = System.nanoTime();
        RunningContainer rc = driver.start(spec(id, "\"run\":{\"command\":[\"x\"],\"environment\":{\"A\":\"1\"}},"
                + "\"resources\":{\"memory\":\"64M\",\"cpu\":0.5,\"pids\":50},"
                + "\"endpoints\":[{\"name\":\"http\",\"port\":8080}]"));
        long startMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(ContainerState.RUNNING, driver.state(id));
        assertEquals(List.of(id), driver.list());
        assertTrue(rc.address().orElseThrow().startsWith("10.252.7."), rc.toString());
        assertEquals(Map.of("http", 8080), rc.endpoints());
        assertEquals(jvmCgroupBefore, Files.readAllLines(Path.of("/proc/self/cgroup")), "the JVM changed cgroups");

        // The configuration came through the pipe.
        String json = TestBundles.awaitFile(inside(id, "tmp/config.json"), Duration.ofSeconds(5));
        assertNotNull(json, "the init never got its configuration");
        JsonNode config = new ObjectMapper().readTree(json);
        assertEquals(id, config.get("component").asText());
        assertEquals("10.252.7.1", config.at("/hub/host").asText());
        assertEquals("/run/smalti/component.sock", config.get("socket").asText());
        assertEquals("/app", config.get("directory").asText());
        assertEquals("1", config.at("/environment/A").asText());
        assertEquals("8080", config.at("/environment/SMALTI_PORT_HTTP").asText());
        assertFalse(Files.exists(settings.stateDir().resolve("instances").resolve(id).resolve("config.fifo")));

        // Own PID namespace, init is PID 1 inside, the bundle is at /app.
        assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")),
                Files.readSymbolicLink(Path.of("/proc/" + rc.initPid() + "/ns/pid")));
        assertEquals("1", TestBundles.awaitFile(inside(id, "tmp/pid.txt"), Duration.ofSeconds(5)).strip());
        assertTrue(TestBundles.awaitFile(inside(id, "tmp/app.txt"), Duration.ofSeconds(5)).contains("hello.txt"));
        System.out.println("fds of the init inside: " + Files.readString(inside(id, "tmp/fds.txt")).replace('\n', ' '));

        // Limits in force, usage readable.
        assertEquals(Long.toString(64L << 20), driver.cgroupItem(id, "memory.limit_in_bytes").orElseThrow());
        assertEquals("50", driver.cgroupItem(id, "pids.max").orElseThrow());
        // The CPU quota only once the instance has started: its JVMs start unthrottled.
        assertEquals("-1", driver.cgroupItem(id, "cpu.cfs_quota_us").orElseThrow());
        driver.started(id);
        assertEquals("50000", driver.cgroupItem(id, "cpu.cfs_quota_us").orElseThrow());
        Usage usage = driver.usage(id).orElseThrow();
        assertTrue(usage.pids() >= 1 && usage.memoryBytes() > 0, usage.toString());
        assertTrue(Bridge.interfaceExists(LxcDriver.vethName(id)));

        // Polite stop: SIGTERM to init, handled, fast.
        long t1 = System.nanoTime();
        driver.stop(id, Duration.ofSeconds(10));
        long stopMs = (System.nanoTime() - t1) / 1_000_000;
        assertEquals(ContainerState.STOPPED, driver.state(id));
        assertTrue(stopMs < 5000, "stop took " + stopMs + " ms");
        assertTrue(Files.exists(inside(id, "tmp/term.txt")), "init did not get SIGTERM");

        long t2 = System.nanoTime();
        driver.destroy(id);
        long destroyMs = (System.nanoTime() - t2) / 1_000_000;
        System.out.printf("lxc driver: start %d ms, stop %d ms, destroy %d ms, usage %s%n", startMs, stopMs,
                destroyMs, usage);
        assertLeftNothing(id, name);
        driver.destroy(id); // idempotent
    }

    /**
     * Stands in for the harness and acts as a hostile component would: it tries to remount every read-only
     * mount writable, to write to each, and to make a block device, and notes its id map and capabilities.
     */
    static final List<String> HOSTILE_INIT = List.of("/bin/sh", "-c",
            "cat > /tmp/config.json; cat /proc/self/uid_map > /tmp/uid_map.txt;"
                    + " grep CapEff /proc/self/status > /tmp/caps.txt;"
                    + " awk '$6 ~ /(^|,)ro(,|$)/ {print $5}' /proc/self/mountinfo | sort -u > /tmp/ro.txt;"
                    + " while read m; do"
                    + "   if mount -o remount,bind,rw \"$m\" 2>/dev/null; then echo \"remount $m\"; fi;"
                    + "   if touch \"$m/.smalti-probe\" 2>/dev/null; then echo \"write $m\"; fi;"
                    + " done < /tmp/ro.txt > /tmp/breaches.txt;"
                    + " if mknod /tmp/sda b 8 0 2>/dev/null; then echo mknod >> /tmp/breaches.txt; fi;"
                    + " echo done > /tmp/done.txt;"
                    + " trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done");

    @Test
    void aHostileComponentCannotWriteToTheHostNorMakeDevices() throws Exception {
        LxcDriver hostile = new LxcDriver(settings.withLauncherOverride(HOSTILE_INIT));
        String id = TestBundles.newId();
        String name = LxcDriver.containerName(id);
        // Allowed by default, read-only: /usr/share/zoneinfo (tzdata), else the JDK's own directory.
        String allowed = Files.isDirectory(Path.of("/usr/share/zoneinfo")) ? "/usr/share/zoneinfo" : "/usr/lib/jvm";
        RunningContainer rc = hostile.start(spec(id, "\"run\":{\"command\":[\"x\"]},"
                + "\"mounts\":[{\"host\":\"" + allowed + "\",\"path\":\"/data\"}]"));
        assertNotNull(TestBundles.awaitFile(inside(id, "tmp/done.txt"), Duration.ofSeconds(10)),
                "the probe did not finish");
        // Its own user namespace: container root is the node's mapped id, not host root.
        int root = settings.confinement().idStart();
        assertEquals(List.of("0", Integer.toString(root), "65536"),
                List.of(Files.readString(inside(id, "tmp/uid_map.txt")).strip().split("\\s+")));
        assertEquals(root, Files.getAttribute(Path.of("/proc/" + rc.initPid()), "unix:uid"));
        // Only the kept capabilities: no sys_admin (bit 21), mknod (27), sys_module (16), sys_rawio (17).
        long caps = Long.parseLong(Files.readString(inside(id, "tmp/caps.txt")).strip().split("\\s+")[1], 16);
        for (int bit : new int[] {16, 17, 19, 21, 25, 27}) {
            assertEquals(0, caps & (1L << bit), "capability bit " + bit + " kept: " + Long.toHexString(caps));
        }
        // It tried the bundle, the runtimes, the harness jars and the allowed mount: none became writable.
        String readOnly = Files.readString(inside(id, "tmp/ro.txt"));
        assertTrue(readOnly.contains("/app") && readOnly.contains("/data") && readOnly.contains("/usr/lib"), readOnly);
        assertEquals("", Files.readString(inside(id, "tmp/breaches.txt")).strip(), "the component broke out");
        // Devices: denied but for the usual pseudo-devices.
        String devices = hostile.cgroupItem(id, Cgroups.v1Devices() ? "devices.list" : "devices.allow")
                .orElse("");
        assertFalse(devices.contains("a *:* rwm"), devices);
        hostile.destroy(id);
        assertLeftNothing(id, name);
    }

    @Test
    void aBundleMountingAHostPathOutsideTheAllowListIsRefusedNamingIt() throws Exception {
        Path otherNode = Files.createDirectories(tmp.resolve("other-node-data"));
        String id = TestBundles.newId();
        ContainerSpec spec = spec(id, "\"run\":{\"command\":[\"x\"]},"
                + "\"mounts\":[{\"host\":\"" + otherNode + "\",\"path\":\"/steal\"}]");
        String why = driver.refusal(spec.manifest()).orElseThrow();
        assertTrue(why.contains(otherNode.toString()) && why.contains("not in the node's allowed host paths"), why);
        var e = org.junit.jupiter.api.Assertions.assertThrows(io.smalti.container.ContainerException.class,
                () -> driver.start(spec));
        assertTrue(e.getMessage().contains(otherNode.toString()), e.getMessage());
        // A link inside an allowed path that leads out is refused too.
        Path allowedDir = Files.createDirectories(tmp.resolve("allowed"));
        Files.createSymbolicLink(allowedDir.resolve("escape"), otherNode);
        var c = new io.smalti.container.Confinement(settings.confinement().idStart(), 65536, List.of(allowedDir));
        assertTrue(c.refusal(spec(TestBundles.newId(), "\"run\":{\"command\":[\"x\"]},\"mounts\":[{\"host\":\""
                + allowedDir.resolve("escape") + "\",\"path\":\"/x\"}]").manifest(), "test").isPresent());
        assertTrue(c.refusal(spec(TestBundles.newId(), "\"run\":{\"command\":[\"x\"]},\"mounts\":[{\"host\":\""
                + allowedDir + "\",\"path\":\"/x\"}]").manifest(), "test").isEmpty());
        assertLeftNothing(id, LxcDriver.containerName(id));
    }

    @Test
    void eachContainersMonitorIsASmallProcessNotACopyOfThisJvm() throws Exception {
        String id = TestBundles.newId();
        String name = LxcDriver.containerName(id);
        driver.start(spec(id, "\"run\":{\"command\":[\"x\"]}"));
        String marker = "[lxc monitor] " + LxcDriver.runDir(settings.stateDir()).resolve("lxc") + " " + name;
        long monitor = ProcessHandle.allProcesses().filter(p -> cmdline(p.pid()).equals(marker))
                .mapToLong(ProcessHandle::pid).findFirst().orElseThrow(() -> new AssertionError("no " + marker));
        String exe = Files.readSymbolicLink(Path.of("/proc/" + monitor + "/exe")).toString();
        assertTrue(exe.endsWith("lxc-start"), "the monitor runs " + exe);
        long pssKib = Files.readAllLines(Path.of("/proc/" + monitor + "/smaps_rollup")).stream()
                .filter(l -> l.startsWith("Pss:")).mapToLong(l -> Long.parseLong(l.split("\\s+")[1])).sum();
        // A fork of this JVM was ~114 MiB; lxc-start's monitor is ~1.5 MiB (LXC-NOTES).
        assertTrue(pssKib < 8 * 1024, "monitor PSS " + pssKib + " KiB");
        driver.destroy(id);
        assertLeftNothing(id, name);
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void containersDoNotSeeEachOthersProcesses() throws Exception {
        String a = TestBundles.newId();
        String b = TestBundles.newId();
        RunningContainer ra = driver.start(spec(a, "\"run\":{\"command\":[\"x\"]}"));
        RunningContainer rb = driver.start(spec(b, "\"run\":{\"command\":[\"x\"]}"));
        assertNotEquals(ra.address(), rb.address());
        assertNotEquals(Files.readSymbolicLink(Path.of("/proc/" + ra.initPid() + "/ns/pid")),
                Files.readSymbolicLink(Path.of("/proc/" + rb.initPid() + "/ns/pid")));
        for (String id : List.of(a, b)) {
            String proc = TestBundles.awaitFile(inside(id, "tmp/proc.txt"), Duration.ofSeconds(5));
            assertNotNull(proc);
            List<Integer> pids = Arrays.stream(proc.split("\\s+")).filter(s -> s.matches("[0-9]+"))
                    .map(Integer::parseInt).toList();
            // Only the init and the ls that listed /proc: nothing of the host or of the other container.
            assertTrue(pids.contains(1) && pids.size() <= 3, "container " + id + " sees pids " + pids);
        }
        driver.stop(a, Duration.ofSeconds(5));
        driver.destroy(a);
        assertEquals(ContainerState.RUNNING, driver.state(b));
        driver.destroy(b);
        assertLeftNothing(a, LxcDriver.containerName(a));
        assertLeftNothing(b, LxcDriver.containerName(b));
    }

    @Test
    void aRestartedDriverListsAndDestroysWhatAnEarlierOneStarted() throws Exception {
        String id = TestBundles.newId();
        String addr = driver.start(spec(id, "\"run\":{\"command\":[\"x\"]}")).address().orElseThrow();
        driver.close();
        LxcDriver again = new LxcDriver(settings);
        assertEquals(List.of(id), again.list());
        assertEquals(ContainerState.RUNNING, again.state(id));
        // The address stays taken across the restart.
        String other = TestBundles.newId();
        assertNotEquals(addr, again.start(spec(other, "\"run\":{\"command\":[\"x\"]}")).address().orElseThrow());
        again.destroy(id);
        again.destroy(other);
        assertLeftNothing(id, LxcDriver.containerName(id));
    }

    @Test
    void hostNetworkModeSharesTheHostNetworkWithAllocatedPorts() throws Exception {
        LxcDriver host = new LxcDriver(settings.withNetwork(NetworkMode.HOST, BRIDGE, SUBNET)
                .withHubHostForHostMode("127.0.0.1"));
        String id = TestBundles.newId();
        RunningContainer rc = host.start(spec(id, "\"run\":{\"command\":[\"x\"]},"
                + "\"endpoints\":[{\"name\":\"http\",\"port\":8080},{\"name\":\"admin\",\"port\":8081}]"));
        assertTrue(rc.address().isEmpty());
        int http = rc.endpoints().get("http");
        int admin = rc.endpoints().get("admin");
        assertTrue(http > 0 && admin > 0 && http != admin, rc.endpoints().toString());
        JsonNode config = new ObjectMapper().readTree(TestBundles.awaitFile(inside(id, "tmp/config.json"),
                Duration.ofSeconds(5)));
        assertEquals("127.0.0.1", config.at("/hub/host").asText());
        assertEquals(Integer.toString(http), config.at("/environment/SMALTI_PORT_HTTP").asText());
        assertEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")),
                Files.readSymbolicLink(Path.of("/proc/" + rc.initPid() + "/ns/net")));
        assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")),
                Files.readSymbolicLink(Path.of("/proc/" + rc.initPid() + "/ns/pid")));
        host.destroy(id);
        assertLeftNothing(id, LxcDriver.containerName(id));
    }

    @Test
    void aProcessAllocatingBeyondTheMemoryLimitIsKilled() throws Exception {
        // busybox dd allocates its whole block: 100M in a 32M container (no swap beyond it: memsw = memory).
        LxcDriver oom = new LxcDriver(settings.withLauncherOverride(List.of("/bin/sh", "-c",
                "cat > /tmp/config.json; dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null;"
                        + " echo $? > /tmp/dd.txt; trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done")));
        String id = TestBundles.newId();
        oom.start(spec(id, "\"run\":{\"command\":[\"x\"]},\"resources\":{\"memory\":\"32M\"}"));
        String status = TestBundles.awaitFile(inside(id, "tmp/dd.txt"), Duration.ofSeconds(10));
        assertNotNull(status, "dd never finished");
        assertEquals("137", status.strip(), "dd was not killed by the OOM killer (exit status " + status.strip() + ")");
        assertEquals(ContainerState.RUNNING, oom.state(id), "the init should survive its child's OOM kill");
        oom.destroy(id);
        assertLeftNothing(id, LxcDriver.containerName(id));
    }

    @Test
    void theFactoryPicksLxcHere() {
        try (var d = ContainerDrivers.create(settings)) {
            assertEquals("lxc", d.name());
            assertTrue(d.isolates());
        }
    }

    @Test
    void theRealHarnessRunsAsInitAndStopsOnSigterm() throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Path> cp = Arrays.stream(classpath.split(File.pathSeparator)).filter(s -> !s.isBlank())
                .map(Path::of).filter(Files::exists).toList();
        Assumptions.assumeTrue(cp.stream().anyMatch(p -> p.toString().contains("smalti-harness")),
                "the smalti-harness jar is not on the test class path");
        ContainerSettings real = settings.withLauncherOverride(List.of())
                .withHarness(settings.javaExecutable(), cp, ContainerSettings.DEFAULT_JVM_OPTIONS);
        LxcDriver harnessDriver = new LxcDriver(real);
        String id = TestBundles.newId();
        Path bundle = TestBundles.bundle(tmp, "\"run\":{\"command\":[\"/bin/sh\",\"-c\",\"sleep 600\"]},"
                + "\"runtimes\":[\"java\"],\"resources\":{\"memory\":\"256M\"}");
        ContainerSpec spec = new ContainerSpec(id, bundle, TestBundles.manifest(bundle), "127.0.0.1", 9,
                TestBundles.certificatePem(tmp), "unused-token", Map.of(), Duration.ofSeconds(2));
        long t0 = System.nanoTime();
        harnessDriver.start(spec);
        Path log = settings.stateDir().resolve("instances").resolve(id).resolve("harness.log");
        // Nothing listens on the bridge address's port 9: the harness says it is retrying the hub.
        boolean retrying = TestBundles.awaitText(log, "reconnecting", Duration.ofSeconds(20));
        long upMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(retrying, "the harness never tried the hub; log: "
                + (Files.exists(log) ? Files.readString(log) : "(none)"));
        assertTrue(Files.readString(log).contains("local channel listening at /run/smalti/component.sock")
                || Files.readString(log).contains("reconnecting"), Files.readString(log));
        Usage usage = harnessDriver.usage(id).orElseThrow();
        assertTrue(usage.memoryBytes() > 8 << 20, "a JVM uses more than " + usage);
        long t1 = System.nanoTime();
        harnessDriver.stop(id, Duration.ofSeconds(10));
        long stopMs = (System.nanoTime() - t1) / 1_000_000;
        assertEquals(ContainerState.STOPPED, harnessDriver.state(id));
        assertTrue(stopMs < 5000, "the JVM as PID 1 took " + stopMs + " ms to stop on SIGTERM");
        System.out.printf("real harness in lxc: start to first hub attempt %d ms, stop %d ms, usage %s%n", upMs,
                stopMs, usage);
        harnessDriver.destroy(id);
        assertLeftNothing(id, LxcDriver.containerName(id));
    }

    private void assertLeftNothing(String id, String name) throws IOException {
        assertEquals(ContainerState.ABSENT, driver.state(id));
        assertFalse(driver.list().contains(id));
        assertFalse(Files.exists(settings.stateDir().resolve("instances").resolve(id)), "instance dir left");
        Path run = LxcDriver.runDir(settings.stateDir());
        assertFalse(Files.exists(run.resolve("lxc").resolve(name)), "lxc container dir left");
        assertFalse(Files.exists(run.resolve("rootfs").resolve(name)), "rootfs mount point left");
        assertEquals(List.of(), Mounts.under(settings.stateDir().resolve("instances").resolve(id)), "mounts left");
        assertEquals(List.of(), Mounts.under(run.resolve("rootfs").resolve(name)), "mounts left");
        assertFalse(Bridge.interfaceExists(LxcDriver.vethName(id)), "veth left");
        assertEquals(List.of(), cgroupDirsNamed(name), "cgroup directories left");
        assertEquals(jvmCgroupBefore, Files.readAllLines(Path.of("/proc/self/cgroup")), "the JVM changed cgroups");
    }

    /** Directories under /sys/fs/cgroup/* whose name mentions the container (lxc.payload.X, lxc.monitor.X). */
    private static List<Path> cgroupDirsNamed(String name) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                try (Stream<Path> s = Files.walk(h, 4)) {
                    s.filter(p -> p.getFileName().toString().contains(name)).forEach(out::add);
                } catch (IOException | java.io.UncheckedIOException e) {
                    // a cgroup removed while walking
                }
            }
        }
        return out;
    }
}
