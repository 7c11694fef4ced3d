package io.smalti.component.scheduling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Picks the node for a new instance: among the nodes that take instances and have the memory it needs
 * (free memory less what was already promised to instances still starting there), the one with the
 * fewest instances of the same type (spreading a type across nodes), then the fewest instances, then the
 * most free memory. Pure and thread-confined: one scheduler per placement round.
 */
public final class Scheduler {

    /** A node as the scheduler sees it. */
    public record Candidate(String name, boolean acceptsInstances, long memAvailableBytes, int cpus, double load1,
                            int instances, int instancesOfType) {}

    private final Map<String, Candidate> nodes = new HashMap<>();
    private final Map<String, Long> promised = new HashMap<>();

    public Scheduler(List<Candidate> candidates) {
        for (Candidate c : candidates) {
            nodes.put(c.name(), c);
        }
    }

    /**
     * The node for one more instance needing {@code memoryBytes}, or empty with nothing fitting; the
     * choice is remembered so the next pick of this round spreads further.
     */
    public Optional<String> place(long memoryBytes) {
        List<Candidate> fit = new ArrayList<>();
        for (Candidate c : nodes.values()) {
            long free = c.memAvailableBytes() - promised.getOrDefault(c.name(), 0L);
            if (c.acceptsInstances() && free >= memoryBytes) {
                fit.add(c);
            }
        }
        Optional<Candidate> best = fit.stream().min(Comparator.comparingInt(Candidate::instancesOfType)
                .thenComparingInt(Candidate::instances)
                .thenComparing(Comparator.comparingLong(Candidate::memAvailableBytes).reversed())
                .thenComparing(Candidate::name));
        best.ifPresent(c -> {
            promised.merge(c.name(), memoryBytes, Long::sum);
            nodes.put(c.name(), new Candidate(c.name(), c.acceptsInstances(), c.memAvailableBytes(), c.cpus(), c.load1(),
                    c.instances() + 1, c.instancesOfType() + 1));
        });
        return best.map(Candidate::name);
    }

    /** Why nothing fits, for the error: each node and what stopped it. */
    public String whyNot(long memoryBytes) {
        StringBuilder b = new StringBuilder();
        nodes.values().stream().sorted(Comparator.comparing(Candidate::name)).forEach(c -> {
            if (b.length() > 0) {
                b.append("; ");
            }
            long free = c.memAvailableBytes() - promised.getOrDefault(c.name(), 0L);
            b.append(c.name()).append(": ").append(!c.acceptsInstances() ? "takes no instances"
                    : free < memoryBytes ? (free >> 20) + " MiB free < " + (memoryBytes >> 20) + " MiB needed" : "fits");
        });
        return b.length() == 0 ? "no node is available" : b.toString();
    }
}
