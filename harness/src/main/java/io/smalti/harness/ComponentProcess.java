package io.smalti.harness;

import com.sun.jna.Memory;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The component's process and the harness's duties as a container init: start it with the local channel in
 * its environment, kill it (and everything it started) when asked, and reap orphaned grandchildren that the
 * kernel re-parents to the harness. Thread-safe: {@link #kill} and {@link #reapOrphans} may run on any thread.
 */
final class ComponentProcess {
    private static final Logger log = LoggerFactory.getLogger(ComponentProcess.class);

    private final Process process;
    private final Memory siginfo;

    private ComponentProcess(Process process, Memory siginfo) {
        this.process = process;
        this.siginfo = siginfo;
    }

    /** Makes the harness the reaper of orphans below it (needless when it is PID 1: the kernel does that). */
    static boolean becomeSubreaper() {
        try {
            if (ProcessHandle.current().pid() == 1) {
                return true;
            }
            return LibC.INSTANCE.prctl(LibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
        } catch (LinkageError e) {
            log.warn("cannot become a child subreaper (no JNA native support): {}", e.toString());
            return false;
        }
    }

    static ComponentProcess start(HarnessConfig config) throws IOException {
        java.util.List<String> command = new java.util.ArrayList<>(config.command());
        // The JDK looks a bare program name up in the harness's own PATH; the component's PATH is the one
        // its configuration means (e.g. a container's runtime mounted outside the default PATH).
        String path = config.environment().get("PATH");
        if (path != null && !command.get(0).contains("/")) {
            for (String dir : path.split(":")) {
                File candidate = new File(dir.isEmpty() ? "." : dir, command.get(0));
                if (candidate.isFile() && candidate.canExecute()) {
                    command.set(0, candidate.getPath());
                    break;
                }
            }
        }
        ProcessBuilder builder = new ProcessBuilder(command);
        if (config.directory() != null) {
            builder.directory(config.directory().toFile());
        }
        Map<String, String> env = builder.environment();
        env.putAll(config.environment());
        env.put("SMALTI_SOCKET", config.socket().toString());
        env.put("SMALTI_COMPONENT", config.component());
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = builder.start();
        Memory siginfo = null;
        try {
            siginfo = new Memory(LibC.SIGINFO_SIZE);
        } catch (LinkageError e) {
            log.warn("orphaned processes will not be reaped (no JNA native support): {}", e.toString());
        }
        return new ComponentProcess(process, siginfo);
    }

    Process process() {
        return process;
    }

    long pid() {
        return process.pid();
    }

    /** Asks the component to stop (SIGTERM), for when it cannot be told over the local channel. */
    void signalTerminate() {
        process.destroy();
    }

    /** Kills the component and every process below the harness (SIGKILL), leaves first. */
    void kill() {
        List<ProcessHandle> all = new ArrayList<>();
        // Descendants of the harness, not just of the component: orphans re-parented to the harness belong
        // to the component too.
        ProcessHandle.current().descendants().forEach(all::add);
        for (ProcessHandle h : all) {
            if (h.pid() != process.pid()) {
                h.destroyForcibly();
            }
        }
        process.destroyForcibly();
    }

    /**
     * Reaps exited children that are not the component (orphans of the component re-parented to the
     * harness). Peeks with WNOWAIT first, because reaping the component here would rob Java's own process
     * reaper of its exit status.
     */
    void reapOrphans() {
        if (siginfo == null) {
            return;
        }
        try {
            for (int i = 0; i < 64; i++) {
                siginfo.clear();
                int rc = LibC.INSTANCE.waitid(LibC.P_ALL, 0, siginfo, LibC.WEXITED | LibC.WNOHANG | LibC.WNOWAIT);
                if (rc != 0) {
                    return; // ECHILD: no children at all
                }
                int pid = siginfo.getInt(LibC.SI_PID_OFFSET);
                if (pid == 0 || pid == process.pid()) {
                    // Nothing exited, or the component did: Java's reaper collects it.
                    return;
                }
                if (LibC.INSTANCE.waitpid(pid, null, LibC.WNOHANG) == pid) {
                    log.debug("reaped orphan process {}", pid);
                }
            }
        } catch (LinkageError e) {
            log.warn("cannot reap orphaned processes: {}", e.toString());
        }
    }
}
