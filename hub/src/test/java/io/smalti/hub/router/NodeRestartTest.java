package io.smalti.hub.router;

import static io.smalti.hub.testing.Frames.call;
import static io.smalti.hub.testing.Frames.group;
import static io.smalti.hub.testing.Frames.register;
import static io.smalti.hub.testing.Frames.reply;
import static io.smalti.hub.testing.OneNodeRing.newComponent;
import static io.smalti.hub.testing.OneNodeRing.newGroup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.hub.endpoint.HarnessConnection;
import io.smalti.hub.records.HubRecords;
import io.smalti.hub.testing.OneNodeRing;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node killed and started again under the same name, with routers linked in memory: its components
 * connect to the new incarnation while a survivor cleans up after the lost one.
 */
@ExtendWith(OneNodeRing.Extension.class)
class NodeRestartTest {
    private static HubRecords records;
    private final Map<String, Router> nodes = new ConcurrentHashMap<>();
    private final List<Router> routers = new ArrayList<>();
    private final List<HarnessConnection> connections = new ArrayList<>();

    @BeforeAll
    static void ring(OneNodeRing ring) {
        records = ring.records();
    }

    @AfterEach
    void stop() {
        connections.forEach(HarnessConnection::close);
        routers.forEach(Router::close);
    }

    /**
     * Incarnation {@code incarnation} of node {@code name}, its wall clock at {@code clockMillis}: reachable from
     * the others under that name (a restarted node replaces its old one).
     */
    private Router node(String name, long incarnation, long clockMillis) {
        Router r = new Router(name, incarnation, records, HubSettings.defaults("127.0.0.1", 0), () -> clockMillis);
        r.useNodes((to, message) -> {
            Router target = nodes.get(to);
            if (target == null) {
                return false;
            }
            target.onRelay(message);
            return true;
        });
        nodes.put(name, r);
        routers.add(r);
        return r;
    }

    private HarnessConnection connect(Router router, String component) {
        HarnessConnection c = HarnessConnection.connect(router, component);
        connections.add(c);
        return c;
    }

    private static int join(HarnessConnection c, String group) {
        c.send(register(50, group));
        Frame f = c.next();
        assertTrue(f.hasMembership(), f.toString());
        return f.getMembership().getGroups(0).getMembers();
    }

    private static Set<String> members(String group) throws Exception {
        return records.members(group).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void aComponentThatReconnectedToTheRestartedNodeStaysInItsGroupsWhenTheLostIncarnationIsCleanedUp() throws Exception {
        String restarting = newGroup("restarting");
        String g = newGroup("echo");
        String echo = newComponent();
        String dead = newComponent();
        Router survivor = node(newGroup("survivor"), 9, 1_000);
        HarnessConnection caller = connect(survivor, newComponent());

        Router lost = node(restarting, 1, 1_000);
        assertEquals(1, join(connect(lost, echo), g));
        assertEquals(2, join(connect(lost, dead), g));
        // SIGKILL: the lost incarnation never sees its connections close. The node starts again under the same
        // name; echo's harness, which kept running, connects to it and joins its groups again; dead's does not.
        Router restarted = node(restarting, 2, 60_000);
        HarnessConnection again = connect(restarted, echo);
        assertEquals(2, join(again, g), "echo (once) and dead");

        // The cluster removes the lost incarnation only now (after the new one joined): one survivor cleans up.
        assertEquals(1, survivor.nodeLost(restarting, 1).toCompletableFuture().get(10, TimeUnit.SECONDS));

        assertEquals(Set.of(echo), members(g), "echo is still a member, dead is not");
        assertTrue(records.location(echo).toCompletableFuture().get(5, TimeUnit.SECONDS).isPresent(), "echo is still located");
        assertTrue(records.location(dead).toCompletableFuture().get(5, TimeUnit.SECONDS).isEmpty(), "dead is not");
        caller.send(call(9, group(g, Selector.ANY), "echo", "hi", 5_000));
        Frame delivered = again.next();
        assertTrue(delivered.hasCall(), delivered.toString());
        again.send(reply(delivered.getCorrelation(), "hi"));
        Frame answer = caller.next();
        assertTrue(answer.hasReply(), "the group call reached echo: " + answer);
        assertEquals(echo, answer.getReply().getResults(0).getFrom());
        assertEquals(0, survivor.nodeLost(restarting, 1).toCompletableFuture().get(10, TimeUnit.SECONDS),
                "a second clean-up (a retry) finds nothing");
    }
}
