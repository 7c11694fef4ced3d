package io.smalti.ring.cluster;

import static io.smalti.ring.testing.Await.await;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.smalti.ring.Ring;
import io.smalti.ring.testing.TestNodeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three cluster members in one JVM: they agree on one ring; a graceful leave hands its vnodes over. */
class RingManagerTest {
    @TempDir
    Path dir;

    private final List<ActorSystem<Void>> systems = new ArrayList<>();

    private record Node(String name, ActorSystem<Void> system, RingView view) {}

    private Node start(String name) {
        Config config = ConfigFactory.parseString("smalti.ring.size = 32").withFallback(TestNodeConfig.of(name))
                .withFallback(SmaltiConfig.libraryDefaults()).withFallback(ConfigFactory.load());
        RingView view = new RingView();
        Path data = dir.resolve(name);
        data.toFile().mkdirs();
        ActorSystem<Void> system = ActorSystem.create(Behaviors.setup(ctx -> {
            ctx.spawn(RingManager.create(name, RingSettings.from(config), new RingStore(data), view), "ring");
            return Behaviors.empty();
        }), "smalti", config);
        systems.add(system);
        return new Node(name, system, view);
    }

    @AfterEach
    void stop() {
        for (ActorSystem<Void> s : systems) {
            s.terminate();
            s.getWhenTerminated().toCompletableFuture().join();
        }
    }

    @Test
    void membersAgreeOnOneRingAndALeaverLosesItsVnodes() {
        Node a = start("a");
        Node b = start("b");
        Node c = start("c");
        var seed = Cluster.get(a.system()).selfMember().address();
        for (Node n : List.of(a, b, c)) {
            Cluster.get(n.system()).manager().tell(Join.create(seed));
        }
        Ring ring = awaitAgreement(List.of(a, b, c), Set.of("a", "b", "c"));
        Map<String, Integer> counts = ring.vnodeCounts();
        assertTrue(counts.values().stream().allMatch(x -> x == 10 || x == 11), counts.toString());
        assertEquals(ring, new RingStore(dir.resolve("b")).load().orElseThrow(), "b stored the ring it applied");

        Cluster.get(c.system()).manager().tell(Leave.create(Cluster.get(c.system()).selfMember().address()));
        Ring after = awaitAgreement(List.of(a, b), Set.of("a", "b"));
        assertTrue(after.epoch() > ring.epoch());
        assertEquals(Map.of("a", 16, "b", 16), after.vnodeCounts());
        for (int v = 0; v < 32; v++) {
            if (!ring.owner(v).equals("c")) {
                assertEquals(ring.owner(v), after.owner(v), "only c's vnodes move");
            }
        }
    }

    private static Ring awaitAgreement(List<Node> nodes, Set<String> owners) {
        return await(Duration.ofSeconds(30), () -> {
            Ring first = nodes.get(0).view().current().orElse(null);
            if (first == null || !first.vnodeCounts().keySet().equals(owners)) {
                return null;
            }
            for (Node n : nodes) {
                if (!first.equals(n.view().current().orElse(null))) {
                    return null;
                }
            }
            return first;
        }, "nodes " + nodes.stream().map(n -> n.name() + "=" + n.view().current()).toList() + " to agree on owners " + owners);
    }
}
