package io.smalti.hub.records;

import static io.smalti.hub.testing.OneNodeRing.newComponent;
import static io.smalti.hub.testing.OneNodeRing.newGroup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.hub.testing.OneNodeRing;
import io.smalti.protocol.hub.Location;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The hub's records read and written through the vnode framework of a one-node ring. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OneNodeRing.Extension.class)
class HubRecordsTest {
    private HubRecords records;

    @BeforeAll
    void start(OneNodeRing ring) {
        records = ring.records();
    }

    private static <T> T get(CompletionStage<T> s) {
        try {
            return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void membersAreCountedListedAndIndexed() {
        String g = newGroup("members");
        String a = newComponent();
        String b = newComponent();
        assertEquals(1, get(records.addMember(g, a, 10)));
        assertEquals(2, get(records.addMember(g, b, 11)));
        assertEquals(2, get(records.addMember(g, a, 12)), "a's later session: still one member");
        assertEquals(Set.of(a, b), get(records.members(g)));
        assertEquals(2, get(records.removeMember(g, a, 10)), "the earlier session's leave leaves a member");
        assertEquals(1, get(records.removeMember(g, a, 12)));
        assertEquals(0, get(records.removeMember(g, b, 11)));
        assertEquals(Set.of(), get(records.members(g)));
        assertTrue(get(records.groups()).contains(g), "a group keeps its index entry when it empties");
        assertEquals(Set.of(), get(records.members(newGroup("never"))));
    }

    @Test
    void aLocationIsClearedOnlyByTheSessionThatSetIt() {
        String c = newComponent();
        Location first = Location.newBuilder().setNode("n1").setSession(1).build();
        Location second = Location.newBuilder().setNode("n1").setSession(2).build();
        assertEquals(Optional.empty(), get(records.location(c)));
        get(records.setLocation(c, first));
        get(records.setLocation(c, second));
        get(records.clearLocation(c, first));
        assertEquals(Optional.of(second), get(records.location(c)));
        get(records.clearLocation(c, second));
        assertEquals(Optional.empty(), get(records.location(c)));
    }

    @Test
    void connectedComponentsAreNotedWithTheirSessionAndIncarnation() {
        String node = newGroup("node");
        String a = newComponent();
        String b = newComponent();
        Location atA = Location.newBuilder().setNode(node).setSession(5).setIncarnation(-42).build();
        Location legacy = Location.newBuilder().setNode(node).setSession(6).build();
        get(records.addConnected(a, atA));
        get(records.addConnected(b, legacy));
        assertEquals(Set.of(new HubRecords.Connected(a, atA), new HubRecords.Connected(b, legacy)),
                Set.copyOf(get(records.connected(node))));
        get(records.removeConnected(a, atA));
        assertEquals(List.of(new HubRecords.Connected(b, legacy)), get(records.connected(node)));
    }

    @Test
    void attributesAndWatchersAreKeptPerKey() {
        String c = newComponent();
        String key = HubKeys.attributes(c);
        get(records.updateAttributes(key, Map.of("a", ByteString.copyFromUtf8("1"), "b", ByteString.copyFromUtf8("2")), List.of()));
        get(records.updateAttributes(key, Map.of(), List.of("a")));
        assertEquals(Map.of("b", ByteString.copyFromUtf8("2")), get(records.attributes(key)));
        assertEquals(Map.of(), get(records.attributes(HubKeys.attributes(newComponent()))));

        String watchers = HubKeys.watchers(c);
        assertEquals(1, get(records.addWatcher(watchers, "down:x")));
        assertEquals(2, get(records.addWatcher(watchers, "link:y")));
        assertEquals(1, get(records.removeWatcher(watchers, "down:x")));
        assertEquals(Set.of("link:y"), get(records.watchers(watchers)));
    }
}
