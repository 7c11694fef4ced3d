package io.smalti.bench;

import io.smalti.ring.claim.Claim;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The claimant's work at Q=4096 with 64 nodes: a new ring for all 64 at once, the 64th node joining a
 * 63-node ring, and one node leaving a 64-node ring.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ClaimBenchmark {
    @Param({"4096"})
    int ringSize;

    @Param({"64"})
    int nodes;

    private List<String> all;
    private List<String> allButLast;
    private List<String> allButOne;
    private String[] ringOf63;
    private String[] ringOf64;

    @Setup
    public void setUp() {
        all = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            all.add("node-" + i);
        }
        allButLast = all.subList(0, nodes - 1);
        allButOne = new ArrayList<>(all);
        allButOne.remove(nodes / 2);
        // Grow the ring one node at a time, as a cluster would.
        String[] owners = Claim.claim(null, ringSize, all.subList(0, 1), 3).owners();
        for (int m = 2; m < nodes; m++) {
            owners = Claim.claim(owners, ringSize, all.subList(0, m), 3).owners();
        }
        ringOf63 = owners;
        ringOf64 = Claim.claim(ringOf63, ringSize, all, 3).owners();
    }

    @Benchmark
    public Claim.Result newRingForAllNodes() {
        return Claim.claim(null, ringSize, all, 3);
    }

    @Benchmark
    public Claim.Result lastNodeJoins() {
        return Claim.claim(ringOf63, ringSize, all, 3);
    }

    @Benchmark
    public Claim.Result oneNodeLeaves() {
        return Claim.claim(ringOf64, ringSize, allButOne, 3);
    }
}
