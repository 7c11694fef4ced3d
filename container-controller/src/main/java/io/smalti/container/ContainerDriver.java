package io.smalti.container;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Runs component instances in containers on this node. Implementations are thread-safe. */
public interface ContainerDriver extends AutoCloseable {
    /** "lxc" or "process". */
    String name();

    /** False for "process": its instances share everything with the node agent. */
    boolean isolates();

    /**
     * Prepares the filesystem, network and limits and starts the harness as the container's init; returns when
     * it runs. Throws {@link ContainerException} with a clear message (and leaves nothing behind) on failure.
     */
    RunningContainer start(ContainerSpec spec);

    /**
     * The instance has started (its harness reached the hub): from now on it runs under all the limits of its
     * manifest. A driver may let an instance start faster than its steady-state CPU quota allows (the JVMs
     * of the harness and component compile their code then); it applies the quota here, and at the latest
     * after {@link #STARTUP_ALLOWANCE}. Does nothing for an instance it does not run.
     */
    default void started(String instance) {
    }

    /** How long an instance may start without its CPU quota at most. */
    java.time.Duration STARTUP_ALLOWANCE = java.time.Duration.ofSeconds(30);

    /** Polite: SIGTERM to init (the harness forwards it to the component), waits up to grace, then kills. Blocks. */
    void stop(String instance, Duration grace);

    /** Forced and final: kills if running, then removes everything it made for the instance; idempotent. */
    void destroy(String instance);

    ContainerState state(String instance);

    /**
     * Why this node would refuse to run a bundle with this manifest (e.g. a host mount outside its allow-list),
     * or empty; asked when a type is registered, so a refusal reaches the developer at deploy.
     */
    default Optional<String> refusal(io.smalti.bundle.Manifest manifest) {
        return Optional.empty();
    }

    /** Memory, CPU and PIDs of the instance read from cgroups (process driver: /proc); empty when not running. */
    Optional<Usage> usage(String instance);

    /** Instance ids this driver has on this node, including ones left by an earlier run of the node agent. */
    List<String> list();

    /** Releases the driver; does NOT stop or destroy containers. */
    @Override
    void close();
}
