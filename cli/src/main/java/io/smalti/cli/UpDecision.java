package io.smalti.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What {@code smalti cluster up} does with a state directory, decided from the layout recorded there, which of
 * its nodes run, and the options given: a pure function of those, so every case is tested without a process.
 *
 * <ul>
 *   <li>none runs: start every node with the options given (defaults for the others), as a first {@code up};
 *   <li>some run: start the others with the recorded layout, so they rejoin the nodes that run;
 *   <li>all run: nothing to do;
 *   <li>refused, with what to do instead: an option given contradicts the recorded layout, {@code --fresh} while
 *       nodes run (it would delete their data), or nodes run but no layout is recorded (an earlier smalti).
 * </ul>
 */
final class UpDecision {
    private UpDecision() {
    }

    /** The outcome. */
    sealed interface Decision permits StartAll, StartMissing, AllRunning, Refused {}

    /** No node runs: start every node of {@code plan}, writing their configuration anew. */
    record StartAll(LocalCluster.Plan plan) implements Decision {}

    /** Start the nodes named {@code start} with the recorded {@code plan}; those in {@code running} run already. */
    record StartMissing(LocalCluster.Plan plan, List<String> start, List<String> running) implements Decision {}

    /** Every node of the recorded plan runs. */
    record AllRunning(List<String> running) implements Decision {}

    /** Nothing is started, for this reason (a sentence saying what to do). */
    record Refused(String reason) implements Decision {}

    /**
     * @param recorded the layout the nodes were last started with, if cluster.json records it
     * @param running the recorded nodes whose processes run, by name
     * @param requested the layout the options ask for (defaults where an option is not given)
     * @param given the layout options given on the command line, by name ({@code --nodes}, ...; see {@link #options})
     * @param fresh whether {@code --fresh} was given
     */
    static Decision decide(Optional<LocalCluster.Plan> recorded, Set<String> running, LocalCluster.Plan requested,
            Set<String> given, boolean fresh) {
        if (running.isEmpty()) {
            return new StartAll(requested);
        }
        List<String> runs = recorded.map(p -> p.names().stream().filter(running::contains).toList())
                .orElse(running.stream().sorted().toList());
        String which = String.join(", ", runs);
        if (fresh) {
            return new Refused("--fresh would delete the data of nodes that run (" + which + "); stop them first with "
                    + "smalti cluster down");
        }
        if (recorded.isEmpty()) {
            return new Refused("nodes " + which + " run, but cluster.json does not record the options they were started "
                    + "with (an earlier smalti wrote it): stop them with smalti cluster down, then run smalti cluster up");
        }
        LocalCluster.Plan plan = recorded.get();
        List<String> contradictions = contradictions(plan, requested, given);
        if (!contradictions.isEmpty()) {
            return new Refused("nodes " + which + " run with other options than given: " + String.join(", ", contradictions)
                    + "; run smalti cluster up without them to start the nodes that do not run, or stop the cluster first "
                    + "with smalti cluster down");
        }
        List<String> missing = plan.names().stream().filter(n -> !running.contains(n)).toList();
        return missing.isEmpty() ? new AllRunning(runs) : new StartMissing(plan, missing, runs);
    }

    /** The layout options of {@code cluster up} with their values in {@code plan}, in the order of its help. */
    static Map<String, String> options(LocalCluster.Plan plan) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("--nodes", Integer.toString(plan.count()));
        o.put("--ring-size", Integer.toString(plan.ringSize()));
        o.put("--replicas", Integer.toString(plan.replicas()));
        o.put("--cluster-port", Integer.toString(plan.clusterPort()));
        o.put("--api-port", Integer.toString(plan.apiPort()));
        o.put("--hub-port", Integer.toString(plan.hubPort()));
        o.put("--single-host", Boolean.toString(!plan.distinctHosts()));
        o.put("--driver", plan.containers().driver());
        o.put("--bridge-prefix", plan.containers().bridgePrefix());
        o.put("--subnet-prefix", plan.containers().subnetPrefix());
        return o;
    }

    /** "--nodes 5 (it has 3)" for each option given whose value differs from the recorded one. */
    private static List<String> contradictions(LocalCluster.Plan recorded, LocalCluster.Plan requested, Set<String> given) {
        Map<String, String> was = options(recorded);
        Map<String, String> asked = options(requested);
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : asked.entrySet()) {
            String option = e.getKey();
            if (!given.contains(option) || e.getValue().equals(was.get(option))) {
                continue;
            }
            if (option.equals("--single-host")) {
                out.add(recorded.distinctHosts() ? "--single-host (its nodes have one loopback address each)"
                        : "no --single-host (its nodes share 127.0.0.1)");
            } else {
                out.add(option + " " + e.getValue() + " (it has " + was.get(option) + ")");
            }
        }
        return out;
    }
}
