package io.smalti.node.controller;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one program running: starts it, restarts it whenever it exits (whatever the exit code) after a
 * {@link Backoff} delay, optionally kills and restarts it when a health check keeps failing, and stops it with
 * its whole process tree. Thread-safe; timers, exit handling and health probes run on one daemon thread of its
 * own, or on a given {@link ScheduledExecutorService}. One-shot: once stopped it cannot be started again.
 */
public final class ProcessSupervisor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProcessSupervisor.class);

    /** Grace used by {@link #close()}. */
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);

    /** What the supervisor is doing. */
    public enum State {
        /** The program is running. */
        RUNNING,
        /** The program exited (or could not start) and a restart is scheduled. */
        BACKING_OFF,
        /** Not started yet, or stopped for good. */
        STOPPED
    }

    /**
     * A snapshot of a supervisor, JSON-friendly.
     *
     * @param name      the program's name
     * @param pid       the running process's id, -1 when none runs
     * @param state     what the supervisor is doing
     * @param restarts  how many times the program was (re)started after the first start
     * @param lastExit  exit code of the last run, null before any exit
     * @param lastError why the last run ended abnormally or could not start (health check, spawn error), or null
     * @param since     when the current state was entered
     */
    public record Status(String name, long pid, State state, int restarts, Integer lastExit, String lastError,
                         Instant since) {
    }

    /**
     * A health check: {@code probe} is polled every {@code interval}, starting {@code initialDelay} after each
     * start; {@code failureThreshold} false answers (or exceptions) in a row kill the program, which is then
     * restarted as after any exit. The probe runs on the supervisor's thread, so it must return well within
     * the interval.
     */
    public record HealthCheck(Supplier<Boolean> probe, Duration interval, int failureThreshold,
                              Duration initialDelay) {
        public HealthCheck {
            Objects.requireNonNull(probe, "probe");
            Objects.requireNonNull(interval, "interval");
            Objects.requireNonNull(initialDelay, "initialDelay");
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("health check interval must be positive, was " + interval);
            }
            if (initialDelay.isNegative()) {
                throw new IllegalArgumentException("health check initial delay must not be negative, was "
                        + initialDelay);
            }
            if (failureThreshold < 1) {
                throw new IllegalArgumentException("health check failure threshold must be >= 1, was "
                        + failureThreshold);
            }
        }

        /** Polls every {@code interval}, the first time one interval after a start. */
        public HealthCheck(Supplier<Boolean> probe, Duration interval, int failureThreshold) {
            this(probe, interval, failureThreshold, interval);
        }
    }

    /** Creates a builder for a supervisor of {@code command} (program and arguments), called {@code name}. */
    public static Builder builder(String name, List<String> command) {
        return new Builder(name, command);
    }

    /** Collects a supervisor's settings; not thread-safe, use from one thread. */
    public static final class Builder {
        private final String name;
        private final List<String> command;
        private final Map<String, String> environment = new LinkedHashMap<>();
        private boolean inheritEnvironment = true;
        private Path workingDirectory;
        private Path logFile;
        private Backoff backoff = Backoff.defaults();
        private HealthCheck healthCheck;
        private Duration killGrace = Duration.ofSeconds(5);
        private ScheduledExecutorService executor;

        private Builder(String name, List<String> command) {
            this.name = Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("a supervised program needs a name");
            }
            this.command = List.copyOf(Objects.requireNonNull(command, "command"));
            if (this.command.isEmpty()) {
                throw new IllegalArgumentException("command of " + name + " is empty");
            }
        }

        /** Variables added to (overriding) the environment; see {@link #inheritEnvironment(boolean)}. */
        public Builder environment(Map<String, String> env) {
            environment.putAll(env);
            return this;
        }

        /** Whether the program starts from this JVM's environment (default true) or from an empty one. */
        public Builder inheritEnvironment(boolean inherit) {
            this.inheritEnvironment = inherit;
            return this;
        }

        /** The program's working directory; default: this JVM's. */
        public Builder workingDirectory(Path dir) {
            this.workingDirectory = dir;
            return this;
        }

        /** Where stdout and stderr go, appended, with a line from the supervisor at each start and exit. */
        public Builder logFile(Path file) {
            this.logFile = file;
            return this;
        }

        /** The restart policy; default {@link Backoff#defaults()}. */
        public Builder backoff(Backoff backoff) {
            this.backoff = Objects.requireNonNull(backoff, "backoff");
            return this;
        }

        /** An optional health check; default none. */
        public Builder healthCheck(HealthCheck check) {
            this.healthCheck = check;
            return this;
        }

        /** How long a program killed for failing its health check gets after SIGTERM before SIGKILL (5 s). */
        public Builder killGrace(Duration grace) {
            Objects.requireNonNull(grace, "grace");
            if (grace.isNegative()) {
                throw new IllegalArgumentException("kill grace must not be negative, was " + grace);
            }
            this.killGrace = grace;
            return this;
        }

        /**
         * Runs timers and health probes on {@code executor} instead of an own daemon thread; the supervisor
         * never shuts a given executor down.
         */
        public Builder executor(ScheduledExecutorService executor) {
            this.executor = executor;
            return this;
        }

        /** Builds the supervisor, not yet started. */
        public ProcessSupervisor build() {
            if (logFile == null) {
                throw new IllegalStateException("no log file given for " + name);
            }
            return new ProcessSupervisor(this);
        }
    }

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final boolean inheritEnvironment;
    private final Path workingDirectory;
    private final Path logFile;
    private final Backoff backoff;
    private final HealthCheck healthCheck;
    private final Duration killGrace;
    private final ScheduledExecutorService executor;
    private final boolean ownExecutor;

    // All guarded by this.
    private boolean started;
    private boolean stopped;
    private State state = State.STOPPED;
    private Instant since = Instant.now();
    private Process process;
    private long generation; // tells a callback whether its run is still the current one
    private long startedNanos;
    private int restarts;
    private int consecutiveFailures;
    private Integer lastExit;
    private String lastError;
    private int healthFailures;
    private ScheduledFuture<?> pendingRestart;
    private ScheduledFuture<?> healthTask;

    private ProcessSupervisor(Builder b) {
        this.name = b.name;
        this.command = b.command;
        this.environment = Map.copyOf(b.environment);
        this.inheritEnvironment = b.inheritEnvironment;
        this.workingDirectory = b.workingDirectory;
        this.logFile = b.logFile;
        this.backoff = b.backoff;
        this.healthCheck = b.healthCheck;
        this.killGrace = b.killGrace;
        if (b.executor != null) {
            this.executor = b.executor;
            this.ownExecutor = false;
        } else {
            ScheduledThreadPoolExecutor own = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "supervisor-" + b.name);
                t.setDaemon(true); // a forgotten supervisor must not keep the JVM alive
                return t;
            });
            own.setRemoveOnCancelPolicy(true);
            this.executor = own;
            this.ownExecutor = true;
        }
    }

    /** The program's name. */
    public String name() {
        return name;
    }

    /**
     * Starts the program now (a spawn failure is handled like an exit: restart after back-off).
     *
     * @throws IllegalStateException if already started or stopped
     */
    public synchronized void start() {
        if (stopped) {
            throw new IllegalStateException("supervisor of " + name + " was stopped; create a new one");
        }
        if (started) {
            throw new IllegalStateException("supervisor of " + name + " is already started");
        }
        started = true;
        launch();
    }

    /** A snapshot of the supervisor. */
    public synchronized Status status() {
        return new Status(name, process != null ? process.pid() : -1, state, restarts, lastExit, lastError, since);
    }

    /**
     * Stops supervising: no more restarts; sends SIGTERM to the program and its descendants, waits up to
     * {@code grace} for the program to exit, then SIGKILLs whatever is left of the tree. Blocks until then;
     * idempotent.
     */
    public void stop(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        Process p;
        synchronized (this) {
            stopped = true;
            cancel(pendingRestart);
            cancel(healthTask);
            pendingRestart = null;
            healthTask = null;
            p = process;
        }
        if (p != null) {
            terminateTree(p, grace);
        }
        synchronized (this) {
            // The exit callback may never run (own executor shut down below, or racing with it): settle here.
            if (p != null && process == p && !p.isAlive()) {
                process = null;
                lastExit = p.exitValue();
                appendLog("stopped; exited with code " + lastExit);
            }
            if (state != State.STOPPED) {
                state = State.STOPPED;
                since = Instant.now();
            }
        }
        if (ownExecutor) {
            executor.shutdownNow();
        }
    }

    /** {@link #stop(Duration)} with {@link #DEFAULT_STOP_GRACE}. */
    @Override
    public void close() {
        stop(DEFAULT_STOP_GRACE);
    }

    @Override
    public String toString() {
        return "ProcessSupervisor" + status();
    }

    // Holds the lock.
    private void launch() {
        pendingRestart = null;
        if (stopped) {
            return;
        }
        Process p;
        try {
            if (logFile.getParent() != null) {
                Files.createDirectories(logFile.getParent());
            }
            appendLog("starting " + String.join(" ", command));
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            if (workingDirectory != null) {
                pb.directory(workingDirectory.toFile());
            }
            if (!inheritEnvironment) {
                pb.environment().clear();
            }
            pb.environment().putAll(environment);
            p = pb.start();
        } catch (IOException | RuntimeException e) {
            lastError = "cannot start: " + e.getMessage();
            LOG.warn("cannot start {} ({}): {}", name, command, e.toString());
            scheduleRestart();
            return;
        }
        try {
            // Nothing feeds stdin: closing it gives a program that reads it EOF instead of a hang.
            p.getOutputStream().close();
        } catch (IOException e) {
            LOG.debug("closing stdin of {} failed", name, e);
        }
        process = p;
        long gen = ++generation;
        startedNanos = System.nanoTime();
        healthFailures = 0;
        state = State.RUNNING;
        since = Instant.now();
        LOG.info("started {} as pid {} (restarts {})", name, p.pid(), restarts);
        try {
            p.onExit().whenCompleteAsync((ignored, error) -> onExit(gen, p), executor);
            if (healthCheck != null) {
                healthTask = executor.scheduleWithFixedDelay(() -> probe(gen, p),
                        healthCheck.initialDelay().toNanos(), healthCheck.interval().toNanos(),
                        TimeUnit.NANOSECONDS);
            }
        } catch (RejectedExecutionException e) {
            executorGone(e);
        }
    }

    private void onExit(long gen, Process p) {
        synchronized (this) {
            if (gen != generation || process != p) {
                return;
            }
            process = null;
            cancel(healthTask);
            healthTask = null;
            lastExit = p.exitValue();
            long ranNanos = System.nanoTime() - startedNanos;
            appendLog("exited with code " + lastExit + " after " + Duration.ofNanos(ranNanos));
            if (stopped) {
                state = State.STOPPED;
                since = Instant.now();
                return;
            }
            LOG.warn("{} (pid {}) exited with code {} after {}", name, p.pid(), lastExit, Duration.ofNanos(ranNanos));
            if (ranNanos >= backoff.resetAfter().toNanos()) {
                consecutiveFailures = 0; // it ran long enough: this exit starts a new sequence
            }
            scheduleRestart();
        }
    }

    // Holds the lock.
    private void scheduleRestart() {
        Duration delay = backoff.delay(consecutiveFailures);
        consecutiveFailures++;
        state = State.BACKING_OFF;
        since = Instant.now();
        LOG.info("restarting {} in {}", name, delay);
        try {
            pendingRestart = executor.schedule(() -> {
                synchronized (this) {
                    if (stopped) {
                        return;
                    }
                    restarts++;
                    launch();
                }
            }, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            executorGone(e);
        }
    }

    // Holds the lock.
    private void executorGone(RejectedExecutionException e) {
        lastError = "executor rejected the supervisor's task; no more restarts: " + e;
        LOG.error("supervisor of {} cannot schedule: its executor was shut down", name, e);
        stopped = true;
        if (process == null) {
            state = State.STOPPED;
            since = Instant.now();
        }
    }

    private void probe(long gen, Process p) {
        synchronized (this) {
            if (gen != generation || process != p || stopped) {
                return;
            }
        }
        // Outside the lock: a slow probe must not block status() or stop().
        boolean healthy;
        String problem = "probe answered false";
        try {
            healthy = Boolean.TRUE.equals(healthCheck.probe().get());
        } catch (RuntimeException e) {
            healthy = false;
            problem = "probe threw " + e;
        }
        synchronized (this) {
            if (gen != generation || process != p || stopped) {
                return;
            }
            if (healthy) {
                healthFailures = 0;
                return;
            }
            healthFailures++;
            LOG.debug("health check of {} failed ({} in a row): {}", name, healthFailures, problem);
            if (healthFailures < healthCheck.failureThreshold()) {
                return;
            }
            lastError = "health check failed " + healthFailures + " times in a row (last: " + problem + ")";
            LOG.warn("killing {} (pid {}): {}", name, p.pid(), lastError);
            cancel(healthTask);
            healthTask = null;
        }
        // terminateTree blocks up to killGrace: a short-lived helper thread keeps the executor free for exit
        // handling (which restarts the program) and for other supervisors sharing it.
        Thread killer = new Thread(() -> terminateTree(p, killGrace), "supervisor-kill-" + name);
        killer.setDaemon(true);
        killer.start();
    }

    /**
     * SIGTERM to the process and its descendants, wait up to {@code grace} for the process, then SIGKILL to
     * everything of the tree still alive. The descendants are listed before the first signal because once the
     * root dies its orphans are re-parented and no longer show up as its descendants.
     */
    private void terminateTree(Process p, Duration grace) {
        ProcessHandle root = p.toHandle();
        Set<ProcessHandle> tree = new LinkedHashSet<>();
        tree.add(root);
        tree.addAll(descendants(root));
        // Root first, so a shell does not react to its children dying by starting the next command.
        for (ProcessHandle h : tree) {
            h.destroy();
        }
        boolean exited = false;
        try {
            exited = p.waitFor(grace.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // kill at once and keep the interrupt for the caller
        }
        tree.addAll(descendants(root)); // whatever it spawned during the grace
        List<ProcessHandle> killed = new ArrayList<>();
        for (ProcessHandle h : tree) {
            if (isRunning(h)) {
                h.destroyForcibly();
                killed.add(h);
            }
        }
        if (!killed.isEmpty()) {
            LOG.warn("{}: SIGKILLed {} process(es) still alive after a grace of {} (root exited: {})",
                    name, killed.size(), grace, exited);
        }
        // SIGKILL cannot be ignored; waiting only makes "stopped" mean "gone" for callers.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (ProcessHandle h : killed) {
            while (isRunning(h)) {
                if (System.nanoTime() > deadline) {
                    LOG.warn("{}: pid {} still not gone 2 s after SIGKILL", name, h.pid());
                    break;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        // A killed root reads as gone once it is a zombie, before the JDK has reaped it: wait for that too, so
        // its exit status is known when stop() returns.
        try {
            p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether {@code h} is still running. Unlike {@link ProcessHandle#isAlive()} a zombie counts as gone: an
     * orphaned grandchild is re-parented to PID 1, and in a container whose PID 1 does not reap, it would
     * otherwise look alive forever after it was killed.
     */
    static boolean isRunning(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"),
                    StandardCharsets.ISO_8859_1);
            // Format: "pid (comm) S ...", where comm may contain spaces and parentheses.
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            return h.isAlive(); // no procfs (or it just vanished): trust the JDK
        }
    }

    private static List<ProcessHandle> descendants(ProcessHandle root) {
        try {
            return root.descendants().toList();
        } catch (RuntimeException e) { // e.g. /proc unreadable: the root alone still gets signalled
            return List.of();
        }
    }

    // Holds the lock.
    private void appendLog(String message) {
        try {
            Files.writeString(logFile, "--- supervisor " + Instant.now() + " " + name + ": " + message + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            LOG.debug("cannot write to log {} of {}", logFile, name, e);
        }
    }

    private static void cancel(Future<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }
}
