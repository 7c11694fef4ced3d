package io.smalti.node.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.node.controller.ProcessSupervisor.HealthCheck;
import io.smalti.node.controller.ProcessSupervisor.State;
import io.smalti.node.controller.ProcessSupervisor.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

@EnabledOnOs(OS.LINUX)
@Timeout(10)
class ProcessSupervisorTest {

    @TempDir
    Path dir;

    private final List<ProcessSupervisor> supervisors = new ArrayList<>();

    @AfterEach
    void stopAll() {
        supervisors.forEach(s -> s.stop(Duration.ZERO));
    }

    private static Duration ms(long n) {
        return Duration.ofMillis(n);
    }

    private ProcessSupervisor.Builder sh(String name, String script) {
        return ProcessSupervisor.builder(name, List.of("sh", "-c", script))
                .logFile(dir.resolve("logs/" + name + ".log"))
                .workingDirectory(dir)
                .environment(Map.of("STARTS", dir.resolve(name + ".starts").toString()));
    }

    private ProcessSupervisor started(ProcessSupervisor.Builder b) {
        ProcessSupervisor s = b.build();
        supervisors.add(s);
        s.start();
        return s;
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Start times, in ms, that the program wrote with {@code date +%s%N >> $STARTS}. */
    private List<Long> starts(String name) {
        try {
            Path f = dir.resolve(name + ".starts");
            if (!Files.exists(f)) {
                return List.of();
            }
            return Files.readAllLines(f).stream().filter(l -> !l.isBlank())
                    .map(l -> Long.parseLong(l.trim()) / 1_000_000).toList();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static List<Long> gaps(List<Long> times) {
        List<Long> g = new ArrayList<>();
        for (int i = 1; i < times.size(); i++) {
            g.add(times.get(i) - times.get(i - 1));
        }
        return g;
    }

    private static boolean running(long pid) {
        return ProcessHandle.of(pid).map(ProcessSupervisor::isRunning).orElse(false);
    }

    private long readPid(Path file) throws Exception {
        await(file + " written", Duration.ofSeconds(3),
                () -> Files.exists(file) && !readQuietly(file).isBlank() && readQuietly(file).endsWith("\n"));
        return Long.parseLong(readQuietly(file).trim());
    }

    private static String readQuietly(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void restartsWithGrowingDelaysCappedAtMax() throws Exception {
        ProcessSupervisor s = started(sh("crasher", "date +%s%N >> \"$STARTS\"; exit 3")
                .backoff(new Backoff(ms(50), ms(400), 2.0, Duration.ofSeconds(30))));
        await("6 starts", Duration.ofSeconds(6), () -> starts("crasher").size() >= 6);
        List<Long> gaps = gaps(starts("crasher").subList(0, 6));
        long[] delays = {50, 100, 200, 400, 400};
        for (int i = 0; i < delays.length; i++) {
            // A gap is the back-off delay plus exit detection and a spawn; it can never be shorter.
            assertTrue(gaps.get(i) >= delays[i] - 2, "gap " + i + " of " + gaps + " shorter than " + delays[i]);
        }
        // Capped: without max the last gap would be 800 ms.
        assertTrue(gaps.get(4) < 700, "gaps " + gaps);
        Status st = s.status();
        assertEquals(3, st.lastExit());
        assertTrue(st.restarts() >= 5, st.toString());
        assertEquals("crasher", st.name());
        String log = Files.readString(dir.resolve("logs/crasher.log"));
        assertTrue(log.contains("exited with code 3"), log);
    }

    @Test
    void backOffResetsAfterARunLongerThanResetAfter() throws Exception {
        // Without a reset the delays would be 50, 500, 5000 ms.
        started(sh("steady", "date +%s%N >> \"$STARTS\"; sleep 0.25; exit 1")
                .backoff(new Backoff(ms(50), Duration.ofSeconds(5), 10.0, ms(150))));
        await("4 starts", Duration.ofSeconds(4), () -> starts("steady").size() >= 4);
        List<Long> gaps = gaps(starts("steady").subList(0, 4));
        for (long g : gaps) {
            assertTrue(g >= 300 - 2 && g < 700, "each gap should be run (250) + initial delay (50): " + gaps);
        }
    }

    @Test
    void failingHealthCheckKillsAndRestarts() throws Exception {
        AtomicInteger probes = new AtomicInteger();
        ProcessSupervisor s = started(sh("hung", "exec sleep 30")
                .backoff(new Backoff(ms(20), ms(20), 1.0, Duration.ofSeconds(30)))
                .killGrace(ms(200))
                .healthCheck(new HealthCheck(() -> {
                    probes.incrementAndGet();
                    return false;
                }, ms(30), 3)));
        long firstPid = s.status().pid();
        assertTrue(firstPid > 0);
        await("a restart", Duration.ofSeconds(3), () -> s.status().restarts() >= 1 && s.status().pid() > 0);
        Status st = s.status();
        assertNotEquals(firstPid, st.pid());
        assertFalse(running(firstPid), "the unhealthy process must be gone");
        assertTrue(probes.get() >= 3, "probes " + probes);
        assertTrue(st.lastError().contains("health check failed 3 times"), st.lastError());
        assertEquals(143, st.lastExit(), "SIGTERM ends sleep: 128 + 15");
    }

    @Test
    void healthyOrFlakyProgramIsLeftAlone() throws Exception {
        AtomicInteger probes = new AtomicInteger();
        ProcessSupervisor s = started(sh("fine", "exec sleep 30")
                .healthCheck(new HealthCheck(() -> {
                    // false, true, throws, true, ...: never 2 failures in a row, and the threshold is 2
                    int n = probes.incrementAndGet();
                    if (n % 4 == 3) {
                        throw new IllegalStateException("flaky (expected in this test)");
                    }
                    return n % 4 != 1;
                }, ms(20), 2)));
        long pid = s.status().pid();
        await("10 probes", Duration.ofSeconds(3), () -> probes.get() >= 10);
        Status st = s.status();
        assertEquals(State.RUNNING, st.state());
        assertEquals(pid, st.pid());
        assertEquals(0, st.restarts());
        assertNull(st.lastError());
    }

    @Test
    void stopTerminatesTheTreeAndDoesNotRestart() throws Exception {
        Path child = dir.resolve("child.pid");
        ProcessSupervisor s = started(sh("tree", "sleep 30 & echo $! > child.pid; wait")
                .backoff(new Backoff(ms(10), ms(10), 1.0, ms(10))));
        long root = s.status().pid();
        long grandchild = readPid(child);
        assertTrue(running(root) && running(grandchild));
        long t0 = System.nanoTime();
        s.stop(Duration.ofSeconds(5));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs < 2000, "SIGTERM is honoured, no need to wait the grace: " + tookMs + " ms");
        assertFalse(running(root), "root");
        assertFalse(running(grandchild), "grandchild");
        Status st = s.status();
        assertEquals(State.STOPPED, st.state());
        assertEquals(-1, st.pid());
        Thread.sleep(100); // 10x the back-off: a restart would have happened by now
        assertEquals(State.STOPPED, s.status().state());
        assertEquals(0, s.status().restarts());
        assertThrows(IllegalStateException.class, s::start);
        s.stop(Duration.ZERO); // idempotent
    }

    @Test
    void stopKillsATreeThatIgnoresSigterm() throws Exception {
        Path child = dir.resolve("child.pid");
        ProcessSupervisor s = started(sh("stubborn", "trap '' TERM; sleep 30 & echo $! > child.pid; wait; sleep 30"));
        long root = s.status().pid();
        long grandchild = readPid(child);
        long t0 = System.nanoTime();
        s.stop(ms(300));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs >= 290 && tookMs < 3000, "waited the grace, then SIGKILL: " + tookMs + " ms");
        assertFalse(running(root), "root");
        assertFalse(running(grandchild), "grandchild");
        assertEquals(State.STOPPED, s.status().state());
        assertEquals(137, s.status().lastExit(), "128 + SIGKILL");
    }

    @Test
    void stopWhileBackingOffCancelsTheRestart() throws Exception {
        ProcessSupervisor s = started(sh("quick", "exit 0").backoff(new Backoff(ms(200), ms(200), 1, ms(1000))));
        await("backing off", Duration.ofSeconds(3), () -> s.status().state() == State.BACKING_OFF);
        s.stop(Duration.ofSeconds(1));
        Thread.sleep(300);
        assertEquals(State.STOPPED, s.status().state());
        assertEquals(0, s.status().restarts());
        assertEquals(0, s.status().lastExit(), "a clean exit is restarted too, but was recorded");
    }

    @Test
    void outputEnvironmentAndWorkingDirectory() throws Exception {
        Path log = dir.resolve("logs/env.log");
        ProcessSupervisor s = started(ProcessSupervisor.builder("env",
                        List.of("sh", "-c", "echo \"hello $FOO in $(pwd)\"; echo oops >&2; read x; echo \"stdin:$x.\""))
                .logFile(log)
                .workingDirectory(dir)
                .environment(Map.of("FOO", "bar"))
                .backoff(new Backoff(Duration.ofSeconds(30), Duration.ofSeconds(30), 1, Duration.ofSeconds(1))));
        await("exit", Duration.ofSeconds(3), () -> s.status().state() == State.BACKING_OFF);
        String out = Files.readString(log);
        assertTrue(out.contains("hello bar in " + dir.toRealPath()), out);
        assertTrue(out.contains("oops"), "stderr goes to the log too: " + out);
        assertTrue(out.contains("stdin:."), "stdin is closed, not left hanging: " + out);
        assertTrue(out.contains("--- supervisor"), out);
    }

    @Test
    void emptyEnvironmentWhenNotInherited() throws Exception {
        Path log = dir.resolve("clean.log");
        ProcessSupervisor s = started(ProcessSupervisor.builder("clean",
                        List.of("/bin/sh", "-c", "echo \"home=[$HOME] only=[$ONLY]\""))
                .logFile(log).inheritEnvironment(false).environment(Map.of("ONLY", "me"))
                .backoff(new Backoff(Duration.ofSeconds(30), Duration.ofSeconds(30), 1, Duration.ofSeconds(1))));
        await("exit", Duration.ofSeconds(3), () -> s.status().state() == State.BACKING_OFF);
        assertTrue(Files.readString(log).contains("home=[] only=[me]"), Files.readString(log));
    }

    @Test
    void spawnFailureIsRetriedWithBackOff() throws Exception {
        ProcessSupervisor s = started(ProcessSupervisor.builder("ghost", List.of("/nonexistent/program"))
                .logFile(dir.resolve("ghost.log"))
                .backoff(new Backoff(ms(10), ms(40), 2, Duration.ofSeconds(1))));
        await("3 retries", Duration.ofSeconds(3), () -> s.status().restarts() >= 3);
        Status st = s.status();
        assertEquals(-1, st.pid());
        assertNull(st.lastExit());
        assertTrue(st.lastError().contains("cannot start") && st.lastError().contains("/nonexistent/program"),
                st.lastError());
        s.stop(ms(100));
        assertEquals(State.STOPPED, s.status().state());
    }

    @Test
    void sharedExecutorIsNotShutDown() throws Exception {
        ScheduledExecutorService shared = Executors.newSingleThreadScheduledExecutor();
        try {
            ProcessSupervisor s = started(sh("shared", "exit 1").executor(shared)
                    .backoff(new Backoff(ms(10), ms(10), 1, Duration.ofSeconds(1))));
            await("2 restarts", Duration.ofSeconds(3), () -> s.status().restarts() >= 2);
            s.stop(ms(100));
            assertFalse(shared.isShutdown());
        } finally {
            shared.shutdownNow();
        }
    }

    @Test
    void lifecycleMisuseIsRejected() {
        ProcessSupervisor s = sh("idle", "exit 0").build();
        supervisors.add(s);
        assertEquals(State.STOPPED, s.status().state());
        assertEquals(-1, s.status().pid());
        s.start();
        IllegalStateException e = assertThrows(IllegalStateException.class, s::start);
        assertTrue(e.getMessage().contains("idle") && e.getMessage().contains("already started"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ProcessSupervisor.builder("x", List.of()));
        assertThrows(IllegalStateException.class, () -> ProcessSupervisor.builder("x", List.of("true")).build());
        assertThrows(IllegalArgumentException.class, () -> new HealthCheck(() -> true, ms(10), 0));
    }
}
