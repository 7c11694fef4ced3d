package io.smalti.container.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.bundle.Manifest;
import io.smalti.container.ContainerDriver;
import io.smalti.container.ContainerException;
import io.smalti.container.ContainerSettings;
import io.smalti.container.ContainerSpec;
import io.smalti.container.ContainerState;
import io.smalti.container.HarnessLaunch;
import io.smalti.container.InstanceStore;
import io.smalti.container.RunningContainer;
import io.smalti.container.Usage;
import io.smalti.container.net.PortAllocator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each harness as a plain child process of the node agent: no isolation, no limits (it says so when
 * created). State per instance lives in {@code <state>/instances/<id>} (record with pid and start time, log), so
 * a restarted agent finds and can stop what an earlier run left. Thread-safe: one lock serializes start and
 * destroy; stop blocks only its caller.
 */
public final class ProcessDriver implements ContainerDriver {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessDriver.class);
    private static final int MAX_SOCKET_PATH = 107;

    private final ContainerSettings settings;
    private final InstanceStore store;
    private final Object lock = new Object();

    public ProcessDriver(ContainerSettings settings) {
        this.settings = settings;
        this.store = new InstanceStore(settings.stateDir());
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public boolean isolates() {
        return false;
    }

    @Override
    public RunningContainer start(ContainerSpec spec) {
        String id = spec.instance();
        synchronized (lock) {
            if (store.exists(id)) {
                throw new ContainerException("instance " + id + " already exists under " + store.dir(id)
                        + " (state " + state(id) + "); destroy it first");
            }
            Path dir = store.dir(id);
            try {
                Files.createDirectories(dir);
                Map<String, Integer> endpoints = allocatePorts(spec.manifest());
                Map<String, String> env = HarnessLaunch.environment(spec, settings, endpoints);
                String socket = socketPath(dir, id);
                String directory = HarnessLaunch.directory(spec.bundleRoot().toAbsolutePath().toString(),
                        spec.manifest());
                byte[] config = HarnessLaunch.config(spec, hubHost(spec), env, directory, socket, settings.hubLease());

                ObjectNode record = store.newRecord().put("driver", name()).put("instance", id);
                record.putPOJO("endpoints", endpoints);
                store.write(id, record); // before the process: a crash now still leaves a findable, destroyable dir

                Process p = launch(dir, config);
                long[] stat = ProcTree.stat(p.pid()).orElse(new long[] {0, 0});
                record.put("pid", p.pid()).put("startTime", stat[1]);
                store.write(id, record);
                Files.writeString(dir.resolve("pid"), p.pid() + "\n");
                if (!p.isAlive()) {
                    throw new ContainerException("instance " + id + ": the harness exited at once with status "
                            + p.exitValue() + "; see " + dir.resolve("harness.log"));
                }
                LOG.info("instance {}: harness started as pid {} (process driver, no isolation)", id, p.pid());
                return new RunningContainer(id, p.pid(), Optional.empty(), endpoints);
            } catch (IOException | RuntimeException e) {
                destroyLocked(id);
                if (e instanceof ContainerException ce) {
                    throw ce;
                }
                throw new ContainerException("instance " + id + ": cannot start the harness: " + e, e);
            }
        }
    }

    private Process launch(Path dir, byte[] config) throws IOException {
        List<String> cmd = new ArrayList<>();
        // A session of its own: a signal to the agent's terminal or process group does not reach components,
        // and the agent can stop while they run (a later agent finds them through the state directory).
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.addAll(HarnessLaunch.command(settings));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("harness.log").toFile()));
        // Only PATH from the agent: its environment may hold what a component must not see.
        Map<String, String> env = pb.environment();
        String path = env.getOrDefault("PATH", HarnessLaunch.BASE_PATH);
        env.clear();
        env.put("PATH", path);
        env.put("HOME", dir.toString());
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(config);
        } catch (IOException e) {
            // the harness died before reading: the caller sees it as not alive and reports the log
        }
        return p;
    }

    private String socketPath(Path dir, String id) {
        String s = dir.resolve("harness.sock").toString();
        if (s.getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH) {
            return s;
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "smalti-" + id + ".sock").toString();
    }

    private String hubHost(ContainerSpec spec) {
        return spec.hubHostForHost() == null || spec.hubHostForHost().isBlank() ? settings.hubHostForHostMode()
                : spec.hubHostForHost();
    }

    private Map<String, Integer> allocatePorts(Manifest m) {
        Set<Integer> inUse = new HashSet<>();
        for (String other : store.ids()) {
            store.read(other).map(r -> r.get("endpoints")).ifPresent(e -> e.forEach(p -> inUse.add(p.asInt())));
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Manifest.Endpoint e : m.endpoints()) {
            int port = PortAllocator.allocate(inUse);
            inUse.add(port);
            out.put(e.name(), port);
        }
        return out;
    }

    /** The harness process if it still runs and is the one we started (same start time: pids are reused). */
    private Optional<ProcessHandle> handle(String id) {
        Optional<JsonNode> r = store.exists(id) ? store.read(id) : Optional.empty();
        if (r.isEmpty() || !r.get().has("pid")) {
            return Optional.empty();
        }
        long pid = r.get().get("pid").asLong();
        long start = r.get().path("startTime").asLong();
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return Optional.empty();
        }
        Optional<long[]> stat = ProcTree.stat(pid);
        if (stat.isEmpty() || (start != 0 && stat.get()[1] != start)) {
            return Optional.empty();
        }
        return h;
    }

    @Override
    public void stop(String instance, Duration grace) {
        Optional<ProcessHandle> h = handle(instance);
        if (h.isEmpty()) {
            return;
        }
        ProcessHandle p = h.get();
        List<ProcessHandle> before = ProcTree.tree(p);
        p.destroy(); // SIGTERM: the harness forwards Terminate to the component and kills it after its grace
        try {
            p.onExit().get(Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warn("instance {}: the harness did not stop within {} ms of SIGTERM; killing it", instance,
                    grace.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            // onExit does not fail
        }
        killTree(p, before);
    }

    /**
     * SIGKILL to the process and every descendant seen now or before (orphans are no longer below it). Waits only
     * for the harness itself: SIGKILL cannot be ignored, and orphans are reaped by whoever inherited them.
     */
    private static void killTree(ProcessHandle p, List<ProcessHandle> before) {
        List<ProcessHandle> all = new ArrayList<>(before);
        if (p.isAlive()) {
            all.addAll(ProcTree.tree(p));
        }
        for (ProcessHandle h : all) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        try {
            p.onExit().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("pid {} still there 2 s after SIGKILL", p.pid());
        }
    }

    @Override
    public void destroy(String instance) {
        synchronized (lock) {
            destroyLocked(instance);
        }
    }

    private void destroyLocked(String instance) {
        handle(instance).ifPresent(p -> killTree(p, ProcTree.tree(p)));
        Path dir = store.dir(instance);
        try {
            Files.deleteIfExists(Path.of(System.getProperty("java.io.tmpdir"), "smalti-" + instance + ".sock"));
            InstanceStore.deleteTree(dir);
        } catch (IOException e) {
            throw new ContainerException("instance " + instance + ": cannot remove " + dir + ": " + e, e);
        }
    }

    @Override
    public ContainerState state(String instance) {
        if (!store.exists(instance)) {
            return ContainerState.ABSENT;
        }
        return handle(instance).isPresent() ? ContainerState.RUNNING : ContainerState.STOPPED;
    }

    @Override
    public Optional<Usage> usage(String instance) {
        return handle(instance).flatMap(ProcTree::usage);
    }

    @Override
    public List<String> list() {
        return store.ids();
    }

    @Override
    public void close() {
        // nothing held: processes keep running, the state directory describes them
    }
}
