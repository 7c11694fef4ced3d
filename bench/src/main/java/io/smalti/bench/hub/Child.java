package io.smalti.bench.hub;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A process started by the benchmark: its standard output is read line by line (so it can announce
 * readiness), its standard error goes to ours, and it is stopped by its PID.
 *
 * <p>Every PID is also appended to the file named by the system property {@code smalti.bench.pids}
 * when set, so the calling script can stop them even if this JVM is killed before its shutdown hook
 * runs. Java children started with {@link #java} also exit on their own when their standard input
 * closes, which happens when this JVM dies.
 */
final class Child implements AutoCloseable {

    private final String name;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private Child(String name, List<String> command, Path log) throws IOException {
        this(name, new ProcessBuilder(command)
                .redirectError(log == null ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.appendTo(log.toFile())));
    }

    private Child(String name, ProcessBuilder builder) throws IOException {
        this.name = name;
        this.process = builder.start();
        String pids = System.getProperty("smalti.bench.pids");
        if (pids != null) {
            Files.writeString(Path.of(pids), process.pid() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // The child went away; waitFor reports it.
            }
        }, name + "-stdout");
        reader.setDaemon(true);
        reader.start();
        Runtime.getRuntime().addShutdownHook(new Thread(this::close));
    }

    /**
     * Starts any program with {@code input} on its standard input (then closed), its standard output and
     * error appended to {@code log}.
     */
    static Child execWithInput(String name, List<String> command, Path log, byte[] input) throws IOException {
        Child c = new Child(name, new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())));
        try (var in = c.process.getOutputStream()) {
            in.write(input);
        }
        return c;
    }

    /** Starts any program, its standard error appended to {@code log}. */
    static Child exec(String name, List<String> command, Path log) throws IOException {
        return new Child(name, command, log);
    }

    /** Starts {@code main} in a new JVM with this JVM's class path and the given heap. */
    static Child java(String name, Class<?> main, String heap, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xms" + heap);
        cmd.add("-Xmx" + heap);
        // The ring's slf4j-api is on the class path without a provider; its warning is noise here.
        cmd.add("-Dslf4j.internal.verbosity=ERROR");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(args);
        return new Child(name, cmd, null);
    }

    /** Waits for a line starting with {@code prefix} and returns the rest of it. */
    String await(String prefix, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
            if (line == null && !process.isAlive()) {
                throw new IllegalStateException(name + " exited with status " + process.exitValue() + " before it was ready");
            }
        }
        throw new IllegalStateException(name + " did not print '" + prefix + "' within " + seconds + " s");
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Stops the process: SIGTERM, then SIGKILL after five seconds. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * For the children's {@code main}: exit when standard input closes, i.e. when the benchmark that
     * started this process is gone, however it died.
     */
    static void exitWithParent() {
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Nothing is ever sent; reading only waits for end of file.
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                Runtime.getRuntime().halt(0);
            }
        }, "parent-watch");
        t.setDaemon(true);
        t.start();
    }
}
