package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What {@code cluster up} decides for every recorded cluster size and every set of nodes that still run. */
class UpDecisionTest {
    private static final LocalCluster.Containers PROCESS = new LocalCluster.Containers("process", "dev-", "10.77");

    /** A cluster as someone started it: its own ports, driver and bridges. */
    private static LocalCluster.Plan recorded(int nodes) {
        return new LocalCluster.Plan(nodes, 128, 2, 17355, 17380, 17390, true, PROCESS);
    }

    /** The command's defaults: what is asked for when no option is given. */
    private static final LocalCluster.Plan DEFAULTS = new LocalCluster.Plan(3, 64, 3, 7355, 7380, 7390, true);

    @Test
    void forEverySizeAndEverySetOfRunningNodesTheOthersAreStartedWithTheRecordedLayout() {
        for (int size = 1; size <= 7; size++) {
            LocalCluster.Plan plan = recorded(size);
            List<String> names = plan.names();
            for (int mask = 0; mask < 1 << size; mask++) {
                Set<String> running = new HashSet<>();
                for (int i = 0; i < size; i++) {
                    if ((mask & 1 << i) != 0) {
                        running.add(names.get(i));
                    }
                }
                UpDecision.Decision d = UpDecision.decide(Optional.of(plan), running, DEFAULTS, Set.of(), false);
                String what = size + " nodes, running " + running;
                if (running.isEmpty()) {
                    // A stopped cluster starts as asked, as the first up did.
                    assertEquals(new UpDecision.StartAll(DEFAULTS), d, what);
                } else if (running.size() == size) {
                    assertEquals(new UpDecision.AllRunning(names), d, what);
                } else {
                    UpDecision.StartMissing m = assertInstanceOf(UpDecision.StartMissing.class, d, what);
                    assertEquals(plan, m.plan(), what + ": the recorded layout, not the defaults");
                    List<String> all = new ArrayList<>(m.start());
                    all.addAll(m.running());
                    assertEquals(names.size(), new HashSet<>(all).size(), what + ": each node once");
                    assertEquals(new HashSet<>(names), new HashSet<>(all), what);
                    assertEquals(names.stream().filter(running::contains).toList(), m.running(), what + ": in order");
                    assertEquals(names.stream().filter(n -> !running.contains(n)).toList(), m.start(), what + ": in order");
                }
            }
        }
    }

    @Test
    void anOptionGivenThatDiffersFromTheRecordedOneIsRefusedNamingBothValues() {
        LocalCluster.Plan plan = recorded(3);
        LocalCluster.Plan asked = new LocalCluster.Plan(5, 128, 2, 17355, 17380, 17390, true,
                new LocalCluster.Containers("lxc", "dev-", "10.77"));
        UpDecision.Decision d = UpDecision.decide(Optional.of(plan), Set.of("n1", "n3"), asked,
                Set.of("--nodes", "--driver", "--ring-size"), false);
        assertEquals(new UpDecision.Refused("nodes n1, n3 run with other options than given: --nodes 5 (it has 3), "
                + "--driver lxc (it has process); run smalti cluster up without them to start the nodes that do not run, "
                + "or stop the cluster first with smalti cluster down"), d);

        // All running, the same: a different option is an error, not "nothing to do".
        assertInstanceOf(UpDecision.Refused.class,
                UpDecision.decide(Optional.of(plan), Set.of("n1", "n2", "n3"), asked, Set.of("--nodes"), false));

        LocalCluster.Plan shared = new LocalCluster.Plan(3, 128, 2, 17355, 17380, 17390, false, PROCESS);
        assertTrue(((UpDecision.Refused) UpDecision.decide(Optional.of(plan), Set.of("n1"), shared, Set.of("--single-host"),
                false)).reason().contains("--single-host (its nodes have one loopback address each)"));
    }

    @Test
    void optionsGivenWithTheRecordedValuesOrNotGivenAtAllAreNoContradiction() {
        LocalCluster.Plan plan = recorded(3);
        // The defaults differ from the recorded layout in every option, but none was given.
        assertEquals(new UpDecision.StartMissing(plan, List.of("n2"), List.of("n1", "n3")),
                UpDecision.decide(Optional.of(plan), Set.of("n1", "n3"), DEFAULTS, Set.of(), false));
        // The recorded values given again.
        assertEquals(new UpDecision.StartMissing(plan, List.of("n2"), List.of("n1", "n3")),
                UpDecision.decide(Optional.of(plan), Set.of("n1", "n3"), plan, UpDecision.options(plan).keySet(), false));
    }

    @Test
    void freshWhileNodesRunAndRunningNodesWithoutARecordedLayoutAreRefused() {
        LocalCluster.Plan plan = recorded(3);
        assertEquals(new UpDecision.Refused("--fresh would delete the data of nodes that run (n1, n3); stop them first "
                + "with smalti cluster down"), UpDecision.decide(Optional.of(plan), Set.of("n3", "n1"), DEFAULTS, Set.of(), true));
        assertEquals(new UpDecision.StartAll(DEFAULTS), UpDecision.decide(Optional.of(plan), Set.of(), DEFAULTS, Set.of(), true));

        UpDecision.Decision legacy = UpDecision.decide(Optional.empty(), Set.of("n1"), DEFAULTS, Set.of(), false);
        assertTrue(((UpDecision.Refused) legacy).reason().startsWith("nodes n1 run, but cluster.json does not record the "
                + "options they were started with"), legacy.toString());
        assertEquals(new UpDecision.StartAll(DEFAULTS), UpDecision.decide(Optional.empty(), Set.of(), DEFAULTS, Set.of(), false));
    }
}
