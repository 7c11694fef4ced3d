package io.smalti.component.testing;

import io.smalti.container.ContainerDriver;
import io.smalti.container.ContainerException;
import io.smalti.container.ContainerSpec;
import io.smalti.container.ContainerState;
import io.smalti.container.RunningContainer;
import io.smalti.container.Usage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A container driver in memory: a state per instance; {@code start} records the spec and runs it,
 * {@code stop} and {@code destroy} flip the state and are recorded; {@link #crash} makes a running container
 * end on its own. Thread-safe.
 */
public final class FakeDriver implements ContainerDriver {
    private final Map<String, ContainerState> states = new ConcurrentHashMap<>();
    private final Map<String, ContainerSpec> specs = new ConcurrentHashMap<>();
    private final Set<String> stopped = ConcurrentHashMap.newKeySet();
    private final Set<String> destroyed = ConcurrentHashMap.newKeySet();
    private final Set<String> refusedBundles = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> starts = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public boolean isolates() {
        return false;
    }

    @Override
    public RunningContainer start(ContainerSpec spec) {
        if (refusedBundles.contains(spec.manifest().name())) {
            throw new ContainerException("the fake driver refuses " + spec.manifest().name());
        }
        if (states.get(spec.instance()) == ContainerState.RUNNING) {
            throw new ContainerException("instance " + spec.instance() + " runs already");
        }
        specs.put(spec.instance(), spec);
        starts.merge(spec.instance(), 1, Integer::sum);
        states.put(spec.instance(), ContainerState.RUNNING);
        Map<String, Integer> endpoints = new java.util.HashMap<>();
        spec.manifest().endpoints().forEach(e -> endpoints.put(e.name(), e.port()));
        return new RunningContainer(spec.instance(), 4242, Optional.of("10.0.0.2"), endpoints);
    }

    @Override
    public void stop(String instance, Duration grace) {
        stopped.add(instance);
        states.computeIfPresent(instance, (k, v) -> ContainerState.STOPPED);
    }

    @Override
    public void destroy(String instance) {
        destroyed.add(instance);
        states.remove(instance);
    }

    @Override
    public ContainerState state(String instance) {
        return states.getOrDefault(instance, ContainerState.ABSENT);
    }

    @Override
    public Optional<Usage> usage(String instance) {
        return state(instance) == ContainerState.RUNNING ? Optional.of(new Usage(32L << 20, 1_000_000, 1)) : Optional.empty();
    }

    @Override
    public List<String> list() {
        return List.copyOf(states.keySet());
    }

    @Override
    public void close() {}

    /** The container ends by itself, as when its init exits or is killed. */
    public void crash(String instance) {
        states.computeIfPresent(instance, (k, v) -> ContainerState.STOPPED);
    }

    /** The container is gone without a trace, as after the node's machine restarted. */
    public void vanish(String instance) {
        states.remove(instance);
    }

    /** From now on, starting an instance of the bundle named so fails. */
    public void refuse(String bundleName) {
        refusedBundles.add(bundleName);
    }

    public Optional<ContainerSpec> spec(String instance) {
        return Optional.ofNullable(specs.get(instance));
    }

    public boolean wasStopped(String instance) {
        return stopped.contains(instance);
    }

    public boolean wasDestroyed(String instance) {
        return destroyed.contains(instance);
    }

    /** How many times the instance was started. */
    public int starts(String instance) {
        return starts.getOrDefault(instance, 0);
    }

    /** True when the instance was started at least once. */
    public boolean wasStarted(String instance) {
        return specs.containsKey(instance);
    }
}
