package io.smalti.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.GroupCount;
import io.smalti.protocol.hub.Membership;
import io.smalti.protocol.hub.Terminate;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The harness executable as a separate JVM, against a TLS hub stub, running {@link TestComponent}. */
@Timeout(60)
class HarnessProcessTest {
    private static final String ID = "89abcdef0123456789abcdef0123456789abcdef";
    private static java.nio.file.Path caDir;

    @TempDir
    Path dir;
    private HubStub hub;
    private Process harness;
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void caDir() throws Exception {
        caDir = java.nio.file.Files.createTempDirectory("harness-test-ca");
    }

    @BeforeEach
    void startHub() throws Exception {
        hub = new HubStub(caDir);
    }

    @AfterEach
    void stop() throws Exception {
        if (harness != null && harness.isAlive()) {
            harness.descendants().forEach(ProcessHandle::destroyForcibly);
            harness.destroyForcibly();
        }
        hub.close();
    }

    private static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null ? cp : System.getProperty("java.class.path");
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private ObjectNode config() {
        ObjectNode root = json.createObjectNode();
        root.put("component", ID);
        root.putObject("hub").put("host", "127.0.0.1").put("port", hub.port).put("certificate", hub.pem).put("token", hub.token());
        root.putArray("command").add(java()).add("-Xmx64m").add("-XX:+UseSerialGC").add("-XX:TieredStopAtLevel=1").add("-cp").add(classpath())
                .add(TestComponent.class.getName());
        root.put("socket", dir.resolve("c.sock").toString());
        root.put("graceMillis", 3000);
        root.putObject("reconnect").put("initialMillis", 50).put("maxMillis", 200);
        return root;
    }

    private Process start(ObjectNode config) throws IOException {
        return start(config, ProcessBuilder.Redirect.INHERIT);
    }

    private Process start(ObjectNode config, ProcessBuilder.Redirect stdout) throws IOException {
        // C1 only starts faster, which is all the functional tests need; the throughput probe wants the real JIT.
        String jit = stdout == ProcessBuilder.Redirect.INHERIT ? "-XX:TieredStopAtLevel=1" : "-XX:+TieredCompilation";
        List<String> command = new ArrayList<>(List.of(java(), "-Xmx32m", "-XX:+UseSerialGC", jit, "-cp", classpath(),
                HarnessMain.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectOutput(stdout);
        pb.redirectError(dir.resolve("harness.err").toFile());
        harness = pb.start();
        try (OutputStream in = harness.getOutputStream()) {
            in.write(json.writeValueAsBytes(config));
        }
        return harness;
    }

    private String stderr() throws IOException {
        return Files.readString(dir.resolve("harness.err"));
    }

    private int exit(long seconds) throws Exception {
        assertTrue(harness.waitFor(seconds, TimeUnit.SECONDS), "harness still running; stderr:\n" + stderr());
        return harness.exitValue();
    }

    /** Accepts the harness, checks its Hello and answers the component's registration. */
    private HubStub.Conn connected() throws Exception {
        HubStub.Conn conn = hub.accept();
        assertEquals(ID, conn.hello.getHello().getComponent());
        assertEquals(1, conn.hello.getHello().getVersion());
        assertTrue(conn.hello.getHello().getAgent().startsWith("smalti-harness"));
        Frame register = conn.next();
        assertEquals(List.of("t"), register.getRegister().getGroupsList());
        conn.send(Frame.newBuilder().setCorrelation(register.getCorrelation())
                .setMembership(Membership.newBuilder().addGroups(GroupCount.newBuilder().setGroup("t").setMembers(1))).build());
        return conn;
    }

    private static Frame call(long correlation, String operation, String inputs) {
        return Frame.newBuilder().setCorrelation(correlation).setTimeoutMs(5000)
                .setCall(Call.newBuilder().setOperation(operation).setInputs(ByteString.copyFromUtf8(inputs)).setCaller("tool:n1"))
                .build();
    }

    @Test
    void relaysAndExitsWithTheComponentStatus() throws Exception {
        // The configuration on fd 3, as a launcher with a spare pipe would pass it (the other tests use stdin).
        Path file = dir.resolve("config.json");
        Files.write(file, json.writeValueAsBytes(config()));
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "exec \"$0\" -Xmx32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp \"$1\" "
                + HarnessMain.class.getName() + " --config-fd 3 3<\"$2\"", java(), classpath(), file.toString());
        pb.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        pb.redirectError(dir.resolve("harness.err").toFile());
        pb.redirectInput(new File("/dev/null"));
        harness = pb.start();
        HubStub.Conn conn = connected();
        conn.send(call(100, "echo", "hello"));
        Frame reply = conn.next();
        assertEquals(100, reply.getCorrelation());
        assertEquals("hello", reply.getReply().getResults(0).getOutputs().toStringUtf8());
        assertTrue(Files.exists(dir.resolve("c.sock")));
        // Informational (the target is RSS <= 64 MB): the harness JVM's resident size once relaying.
        Files.readAllLines(Path.of("/proc/" + harness.pid() + "/status")).stream()
                .filter(l -> l.startsWith("VmRSS")).forEach(l -> System.out.println("harness " + l));

        conn.send(call(101, "exit", "7"));
        assertEquals(101, conn.next().getCorrelation());
        assertEquals(7, exit(10), stderr());
        conn.closed.get(5, TimeUnit.SECONDS); // the hub learns of the exit by the disconnect
        assertFalse(Files.exists(dir.resolve("c.sock")), "socket file removed");
        String log = stderr();
        assertTrue(log.contains("89abcdef") && log.contains("component exited with status 7"), log);
        // netty-tcnative is on this class path: the hub connection uses BoringSSL, not the JDK's TLS.
        assertTrue(log.contains("TLS: " + (io.netty.handler.ssl.OpenSsl.isAvailable() ? "BoringSSL" : "JDK")), log);
    }

    @Test
    void sigtermTerminatesTheComponentWithinTheGracePeriodAndOrphansAreReaped() throws Exception {
        // The component leaves an orphan behind: the subshell's sleep is re-parented to the harness (the
        // subreaper), exits, and must be reaped rather than stay a zombie.
        ObjectNode config = config();
        com.fasterxml.jackson.databind.node.ArrayNode java = (com.fasterxml.jackson.databind.node.ArrayNode) config.get("command");
        StringBuilder exec = new StringBuilder("(sleep 0.2 &); exec");
        java.forEach(arg -> exec.append(" '").append(arg.asText()).append("'"));
        config.putArray("command").add("sh").add("-c").add(exec.toString());
        start(config);
        connected();
        Thread.sleep(1500);
        assertEquals(List.of(), zombieChildren(harness.pid()), "orphans reaped");
        long start = System.nanoTime();
        harness.destroy(); // SIGTERM
        assertEquals(0, exit(10), "the component stopped cleanly on Terminate");
        assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(3000), "within the grace period");
    }

    /** Children of {@code pid} in state Z, from /proc. */
    private static List<Long> zombieChildren(long pid) throws IOException {
        List<Long> zombies = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) dirs::iterator) {
                if (!p.getFileName().toString().matches("\\d+")) {
                    continue;
                }
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException e) {
                    continue; // exited meanwhile
                }
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (fields[0].equals("Z") && Long.parseLong(fields[1]) == pid) {
                    zombies.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        }
        return zombies;
    }

    @Test
    void componentIgnoringTerminateIsKilledAfterTheGracePeriod() throws Exception {
        ObjectNode config = config();
        config.putObject("environment").put("TEST_IGNORE_TERMINATE", "1");
        start(config);
        HubStub.Conn conn = connected();
        long start = System.nanoTime();
        conn.send(Frame.newBuilder().setTerminate(Terminate.newBuilder().setReason("test").setGraceMs(500)).build());
        assertEquals(128 + 9, exit(10), stderr());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis >= 450 && millis < 5000, "killed after the grace period, took " + millis + " ms");
    }

    @Test
    void enrolsWithItsTokenThenSpeaksWithItsOwnCertificateAndRenewsItWithoutDroppingTheSession() throws Exception {
        hub.lifetime = Duration.ofSeconds(3); // renewed at two thirds: about every 2 s
        ObjectNode config = config();
        start(config);
        HubStub.Conn conn = connected();
        assertNotNull(conn.certificate, "the Hello came with a client certificate");
        conn.certificate.verify(hub.ca.certificate().getPublicKey());
        // Two renewals on the same connection; calls keep going through it.
        for (int i = 0; i < 2; i++) {
            Object renewedOn = hub.renewals.poll(10, TimeUnit.SECONDS);
            assertEquals(conn.channel, renewedOn, "renewal " + (i + 1) + " on the session's own connection");
            conn.send(call(200 + i, "echo", "after renewal " + i));
            Frame reply = conn.next();
            assertEquals(200 + i, reply.getCorrelation(), reply.toString());
        }
        assertTrue(conn.channel.isActive(), "the session survived both renewals");
        assertTrue(stderr().contains("certificate renewed"), stderr());
    }

    @Test
    void aRefusedTokenEndsTheHarnessWithStatus3() throws Exception {
        ObjectNode config = config();
        ((ObjectNode) config.get("hub")).put("token", "not-a-token-the-hub-made");
        start(config);
        assertEquals(3, exit(40), stderr());
        assertTrue(stderr().contains("the token is not valid"), stderr());
    }

    @Test
    void reconnectsAndReplaysRegistrations() throws Exception {
        start(config());
        HubStub.Conn first = connected();
        first.channel.close();
        HubStub.Conn second = hub.accept();
        Frame replay = second.next();
        assertEquals(List.of("t"), replay.getRegister().getGroupsList());
        assertTrue((replay.getCorrelation() & Relay.REPLAY_BIT) != 0);
        second.send(Frame.newBuilder().setCorrelation(replay.getCorrelation()).setMembership(Membership.getDefaultInstance()).build());
        second.send(call(5, "echo", "again"));
        Frame reply = second.next();
        assertEquals(5, reply.getCorrelation(), "the replay's answer was consumed, not relayed: " + reply);
        assertEquals("again", reply.getReply().getResults(0).getOutputs().toStringUtf8());
    }

    /** A throughput probe, not a pass/fail test: mvn ... -Dtest=HarnessProcessTest#castThroughput -Dsmalti.bench=true */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "smalti.bench", matches = "true")
    @Timeout(150)
    void castThroughput() throws Exception {
        hub.reflectCasts = true;
        ObjectNode config = config();
        com.fasterxml.jackson.databind.node.ArrayNode command = config.putArray("command");
        command.add(java()).add("-Xmx256m").add("-cp").add(classpath()).add(BenchComponent.class.getName());
        config.putObject("environment").put("BENCH_CASTS", System.getProperty("smalti.bench.casts", "2000000"))
                .put("BENCH_WINDOW", System.getProperty("smalti.bench.window", "5000"));
        start(config, ProcessBuilder.Redirect.to(dir.resolve("bench.out").toFile()));
        assertEquals(0, exit(120), stderr());
        System.out.println("cast throughput: " + Files.readString(dir.resolve("bench.out")).strip());
    }

    @Test
    void aHarnessWithoutItsHubForTheLeaseStopsTheComponentAndExitsFenced() throws Exception {
        ObjectNode config = config();
        config.put("hubLeaseMillis", 2000);
        start(config);
        connected();
        // The node agent is killed and never comes back: its hub is gone, connections refused from now on.
        long lost = System.nanoTime();
        hub.kill();
        assertEquals(Harness.EXIT_FENCED, exit(15), stderr());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lost);
        // At most lease + grace (3 s, should the component not stop on its Terminate) + a margin for busy machines.
        assertTrue(millis >= 1900 && millis < 2000 + 3000 + 1000, "fenced after the lease, took " + millis + " ms");
        String log = stderr();
        assertTrue(log.contains("no hub session for 2 s (lease): fencing this instance"), log);
        assertTrue(log.contains("terminating component: no hub session for 2 s (lease)")
                && log.contains("component exited with status"), "stopped as on SIGTERM: " + log);
    }

    @Test
    void unsupportedVersionExitsWithStatus3() throws Exception {
        hub.helloAnswer = hello -> Frame.newBuilder()
                .setError(Error.newBuilder().setCode(Error.Code.UNSUPPORTED_VERSION).setMessage("version 1 is too old")).build();
        start(config());
        assertEquals(3, exit(40), stderr());
        assertTrue(stderr().contains("version 1 is too old"), stderr());
    }

    @Test
    void aHubPresentingAnotherCertificateIsRefused() throws Exception {
        ObjectNode config = config();
        // The harness trusts node certificates of its configured CA; the stub's is from another cluster's CA.
        ((ObjectNode) config.get("hub")).put("certificate", io.smalti.credentials.ca.Pem.certificate(
                HubStub.testCa(java.nio.file.Files.createTempDirectory("other-ca")).certificate()));
        start(config);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!stderr().contains("was not issued by this harness's cluster CA") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(stderr().contains("TLS handshake with the hub failed"), stderr());
        assertTrue(stderr().contains("was not issued by this harness's cluster CA"), stderr());
        assertFalse(stderr().contains("connected to hub"), stderr());
        assertFalse(stderr().contains("component started"), stderr());
        assertTrue(harness.isAlive(), "the harness keeps trying (the hub may be replaced) until its first-connect deadline");
    }

    @Test
    void badConfigurationExitsWithStatus2NamingTheField() throws Exception {
        ObjectNode config = config();
        config.remove("command");
        start(config);
        assertEquals(2, exit(15));
        assertEquals("smalti-harness: command: missing", stderr().strip());
    }
}
