package io.smalti.bench;

import io.smalti.ring.PreferenceList;
import io.smalti.ring.Ring;
import io.smalti.ring.claim.Claim;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
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
 * Routing lookups on a built ring: which vnode an id falls in, and its preference list (with and without
 * a down node, i.e. with fallbacks). Ids are drawn from a pre-generated pool so the benchmark measures
 * the lookup, not id generation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class RingLookupBenchmark {
    @Param({"1024"})
    int ringSize;

    @Param({"32"})
    int nodes;

    private Ring ring;
    private Id[] ids;
    private int next;
    private Set<String> down;

    @Setup
    public void setUp() {
        List<String> members = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            members.add("node-" + i);
        }
        ring = Ring.of(1, 3, Claim.claim(null, ringSize, members, 3).owners(), "bench", 0);
        Random rnd = new Random(1);
        ids = new Id[4096];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Id.random(Category.INSTANCE, rnd);
        }
        down = Set.of("node-3");
    }

    private Id nextId() {
        Id id = ids[next];
        next = (next + 1) & (ids.length - 1);
        return id;
    }

    @Benchmark
    public int vnodeOf() {
        return ring.vnodeOf(nextId());
    }

    @Benchmark
    public PreferenceList preferenceList() {
        return ring.preferenceList(nextId());
    }

    @Benchmark
    public PreferenceList preferenceListWithFallbacks() {
        return ring.preferenceList(nextId()).withFallbacks(down);
    }
}
