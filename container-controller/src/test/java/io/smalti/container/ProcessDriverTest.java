package io.smalti.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smalti.container.process.ProcessDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessDriverTest {
    /** Stands in for the harness: saves its configuration, then idles until SIGTERM. */
    static final List<String> FAKE_HARNESS = List.of("/bin/sh", "-c",
            "cat > config.json; trap 'echo term > term.txt; exit 0' TERM; while true; do sleep 1 & wait $!; done");

    @TempDir
    Path tmp;
    ContainerSettings settings;
    ProcessDriver driver;

    @BeforeEach
    void setUp() {
        settings = ContainerSettings.defaults("test", tmp.resolve("state")).withLauncherOverride(FAKE_HARNESS);
        driver = new ProcessDriver(settings);
    }

    @AfterEach
    void tearDown() {
        ProcessDriver cleaner = new ProcessDriver(settings);
        for (String id : cleaner.list()) {
            cleaner.destroy(id);
        }
    }

    @Test
    void startsWithConfigOnStdinAndStopsOnSigterm() throws Exception {
        Path bundle = TestBundles.bundle(tmp, "\"run\":{\"command\":[\"java\",\"-version\"],\"environment\":{\"A\":\"1\"}},"
                + "\"runtimes\":[\"java\"],\"endpoints\":[{\"name\":\"http-api\",\"port\":8080}]");
        String id = TestBundles.newId();
        long t0 = System.nanoTime();
        RunningContainer rc = driver.start(TestBundles.spec(id, bundle, "PEM"));
        long startMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(ContainerState.RUNNING, driver.state(id));
        assertTrue(rc.endpoints().get("http-api") > 0);
        Path dir = settings.stateDir().resolve("instances").resolve(id);
        String json = TestBundles.awaitFile(dir.resolve("config.json"), Duration.ofSeconds(5));
        assertNotNull(json, "the configuration never reached the harness's stdin");
        JsonNode config = new ObjectMapper().readTree(json);
        assertEquals(id, config.get("component").asText());
        assertEquals("127.0.0.1", config.at("/hub/host").asText());
        assertEquals(7390, config.at("/hub/port").asInt());
        assertEquals("1", config.at("/environment/A").asText());
        assertEquals("yes", config.at("/environment/TEST_VAR").asText());
        assertEquals(Integer.toString(rc.endpoints().get("http-api")), config.at("/environment/SMALTI_PORT_HTTP_API").asText());
        assertTrue(config.at("/environment/PATH").asText().startsWith(settings.javaHome().resolve("bin").toString()));
        assertEquals(bundle.toString(), config.get("directory").asText());
        assertTrue(driver.usage(id).orElseThrow().pids() >= 1);
        assertTrue(driver.usage(id).orElseThrow().memoryBytes() > 0);

        long t1 = System.nanoTime();
        driver.stop(id, Duration.ofSeconds(5));
        long stopMs = (System.nanoTime() - t1) / 1_000_000;
        assertTrue(stopMs < 3000, "stop took " + stopMs + " ms");
        assertEquals(ContainerState.STOPPED, driver.state(id));
        assertTrue(Files.exists(dir.resolve("term.txt")), "the harness did not get SIGTERM");
        System.out.printf("process driver: start %d ms, stop %d ms%n", startMs, stopMs);

        driver.destroy(id);
        assertEquals(ContainerState.ABSENT, driver.state(id));
        assertFalse(Files.exists(dir));
        driver.destroy(id); // idempotent
    }

    @Test
    void aRestartedDriverFindsAndStopsLeftovers() throws Exception {
        Path bundle = TestBundles.bundle(tmp, "\"run\":{\"command\":[\"x\"]}");
        String id = TestBundles.newId();
        long pid = driver.start(TestBundles.spec(id, bundle, "PEM")).initPid();
        driver.close();

        ProcessDriver again = new ProcessDriver(settings);
        assertEquals(List.of(id), again.list());
        assertEquals(ContainerState.RUNNING, again.state(id));
        again.destroy(id);
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertEquals(List.of(), again.list());
    }

    @Test
    void aHarnessIgnoringSigtermIsKilledAfterTheGrace() throws Exception {
        ProcessDriver stubborn = new ProcessDriver(settings.withLauncherOverride(List.of("/bin/sh", "-c",
                "trap '' TERM; cat > config.json; while true; do sleep 1; done")));
        Path bundle = TestBundles.bundle(tmp, "\"run\":{\"command\":[\"x\"]}");
        String id = TestBundles.newId();
        stubborn.start(TestBundles.spec(id, bundle, "PEM"));
        // config.json exists once the trap is set: SIGTERM before that would end the shell at once
        assertNotNull(TestBundles.awaitFile(settings.stateDir().resolve("instances").resolve(id).resolve("config.json"),
                Duration.ofSeconds(5)));
        long t0 = System.nanoTime();
        stubborn.stop(id, Duration.ofMillis(300));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(ContainerState.STOPPED, stubborn.state(id));
        assertTrue(ms >= 250 && ms < 3000, "stop took " + ms + " ms");
        stubborn.destroy(id);
    }
}
