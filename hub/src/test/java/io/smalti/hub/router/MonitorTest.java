package io.smalti.hub.router;

import static io.smalti.hub.testing.Frames.errorCode;
import static io.smalti.hub.testing.Frames.link;
import static io.smalti.hub.testing.Frames.monitorComponent;
import static io.smalti.hub.testing.Frames.monitorGroup;
import static io.smalti.hub.testing.Frames.register;
import static io.smalti.hub.testing.Frames.unregister;
import static io.smalti.hub.testing.OneNodeRing.newComponent;
import static io.smalti.hub.testing.OneNodeRing.newGroup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.hub.endpoint.HarnessConnection;
import io.smalti.ring.testing.Await;
import io.smalti.protocol.hub.AttributeChanged;
import io.smalti.protocol.hub.AttributeTarget;
import io.smalti.protocol.hub.ComponentDown;
import io.smalti.protocol.hub.Demonitor;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.GroupChanged;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.Monitor;
import io.smalti.protocol.hub.SelectAttributes;
import io.smalti.protocol.hub.Subject;
import io.smalti.protocol.hub.UpdateAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Group and component monitors, links and attributes, as the watching component sees them on its connection. */
class MonitorTest extends RouterFixture {

    private static void expectOk(HarnessConnection c, long correlation) {
        Frame f = c.next();
        assertTrue(f.hasOk(), "expected Ok, got " + f);
        assertEquals(correlation, f.getCorrelation());
    }

    private static Frame expectEvent(HarnessConnection c) {
        Frame f = c.next();
        assertTrue(f.hasEvent(), "expected an Event, got " + f);
        assertEquals(0, f.getCorrelation(), "events are unasked");
        return f;
    }

    private static GroupChanged groupChanged(HarnessConnection c) {
        Frame f = expectEvent(c);
        assertTrue(f.getEvent().hasGroupChanged(), f.toString());
        return f.getEvent().getGroupChanged();
    }

    /** {@code a} monitors group {@code g} (correlation 1), then {@code b} joins it (2): the join {@code a} hears. */
    private static GroupChanged watchJoin(Component a, Component b, String g) {
        a.c().send(monitorGroup(1, g));
        expectOk(a.c(), 1);
        b.c().send(register(2, g));
        b.c().next();
        return groupChanged(a.c());
    }

    @Test
    void aGroupMonitorSeesAJoinAndALeaveByDisconnectAndAComponentMonitorFires() {
        Component a = connect();
        Component b = connect();
        String g = newGroup("watched");
        a.c().send(monitorGroup(1, g));
        expectOk(a.c(), 1);

        b.c().send(register(2, g));
        assertEquals(1, b.c().next().getMembership().getGroups(0).getMembers());
        GroupChanged joined = groupChanged(a.c());
        assertEquals(g, joined.getGroup());
        assertEquals(b.id(), joined.getComponent());
        assertTrue(joined.getJoined());

        a.c().send(monitorComponent(3, b.id()));
        expectOk(a.c(), 3);
        a.c().expectNothing(Duration.ofMillis(50)); // b is connected: nothing to report yet

        b.c().close();
        GoneEvents gone = leftAndDown(a.c());
        GroupChanged left = gone.left();
        ComponentDown down = gone.down();
        assertEquals(b.id(), left.getComponent());
        assertFalse(left.getJoined());
        assertEquals("disconnected", left.getReason());
        assertEquals(b.id(), down.getComponent());
        assertEquals("disconnected", down.getReason());
        a.c().expectNothing(Duration.ofMillis(100));
    }

    @Test
    void aComponentItsNodeEndedGoesAwayAtOnceWithTheNodesReason() {
        Component a = connect();
        Component b = connect();
        String g = newGroup("ended");
        watchJoin(a, b, g);
        a.c().send(monitorComponent(3, b.id()));
        expectOk(a.c(), 3);

        // Its container was destroyed: its connection would not report itself closed for a long while.
        router.disconnect(b.id(), "its instance was destroyed");
        b.c().runTasks(); // the close runs on b's connection's thread
        GoneEvents gone = leftAndDown(a.c());
        assertEquals("its instance was destroyed", gone.left().getReason());
        assertEquals("its instance was destroyed", gone.down().getReason());
        assertFalse(router.isConnected(b.id()));
        assertFalse(b.c().isOpen(), "the hub closed its connection");
        router.disconnect(b.id(), "again"); // nothing left to end
        a.c().expectNothing(Duration.ofMillis(100));
    }

    @Test
    void unregisteringIsSeenWithItsReasonAndCounted() {
        Component a = connect();
        Component b = connect();
        String g = newGroup("unreg");
        assertTrue(watchJoin(a, b, g).getJoined());

        b.c().send(unregister(3, g));
        Frame m = b.c().next();
        assertEquals(3, m.getCorrelation());
        assertEquals(0, m.getMembership().getGroups(0).getMembers());
        GroupChanged left = groupChanged(a.c());
        assertFalse(left.getJoined());
        assertEquals("unregistered", left.getReason());
    }

    @Test
    void aDemonitoredGroupSendsNoMoreEvents() {
        Component a = connect();
        Component b = connect();
        String g = newGroup("demon");
        a.c().send(monitorGroup(1, g));
        expectOk(a.c(), 1);
        a.c().send(Frame.newBuilder().setCorrelation(2).setDemonitor(Demonitor.newBuilder()
                .setSubject(Subject.newBuilder().setGroup(g))).build());
        expectOk(a.c(), 2);
        b.c().send(register(3, g));
        b.c().next();
        a.c().expectNothing(Duration.ofMillis(300));
    }

    @Test
    void monitoringAComponentThatIsNotConnectedReportsItDownAtOnce() {
        Component a = connect();
        String absent = newComponent();
        a.c().send(monitorComponent(4, absent));
        List<Frame> frames = a.c().next(2);
        Frame ok = frames.stream().filter(Frame::hasOk).findFirst().orElseThrow(() -> new AssertionError(frames));
        assertEquals(4, ok.getCorrelation());
        Frame event = frames.stream().filter(Frame::hasEvent).findFirst().orElseThrow(() -> new AssertionError(frames));
        assertEquals(absent, event.getEvent().getComponentDown().getComponent());
        assertEquals("not connected", event.getEvent().getComponentDown().getReason());
    }

    @Test
    void aMonitorWithoutASubjectIsABadRequest() {
        Component a = connect();
        a.c().send(Frame.newBuilder().setCorrelation(5).setMonitor(Monitor.getDefaultInstance()).build());
        Frame f = a.c().next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        assertEquals(5, f.getCorrelation());
    }

    @Test
    void aLinkedComponentIsTerminatedWhenTheOtherGoesAway() {
        Component a = connect();
        Component b = connect();
        a.c().send(link(6, b.id()));
        expectOk(a.c(), 6);
        b.c().close();
        Frame f = a.c().next();
        assertTrue(f.hasTerminate(), "expected Terminate, got " + f);
        assertTrue(f.getTerminate().getReason().contains("linked component " + b.id() + " went away"),
                f.getTerminate().getReason());
        assertEquals(5_000, f.getTerminate().getGraceMs());
    }

    @Test
    void aLinkToAComponentThatIsNotConnectedIsUnknownTarget() {
        Component a = connect();
        a.c().send(link(7, newComponent()));
        assertEquals(Error.Code.UNKNOWN_TARGET, errorCode(a.c().next()));
    }

    private static Frame update(long correlation, AttributeTarget target, String name, String value) {
        return Frame.newBuilder().setCorrelation(correlation).setUpdateAttributes(UpdateAttributes.newBuilder()
                .setTarget(target).putSet(name, ByteString.copyFromUtf8(value))).build();
    }

    @Test
    void attributesAreUpdatedByTheirOwnerReadByAnyoneAndMonitored() {
        Component a = connect();
        Component b = connect();
        AttributeTarget ofB = AttributeTarget.newBuilder().setComponent(b.id()).build();
        a.c().send(Frame.newBuilder().setCorrelation(1).setMonitor(Monitor.newBuilder()
                .setSubject(Subject.newBuilder().setAttributes(ofB))).build());
        expectOk(a.c(), 1);

        b.c().send(update(2, ofB, "load", "0.5"));
        expectOk(b.c(), 2);
        AttributeChanged changed = expectEvent(a.c()).getEvent().getAttributeChanged();
        assertEquals(ofB, changed.getTarget());
        assertEquals("load", changed.getName());
        assertEquals("0.5", changed.getValue().toStringUtf8());

        a.c().send(Frame.newBuilder().setCorrelation(3).setSelectAttributes(SelectAttributes.newBuilder()
                .setTarget(ofB)).build());
        Frame read = a.c().next();
        assertEquals(3, read.getCorrelation());
        assertEquals("0.5", read.getAttributes().getValuesMap().get("load").toStringUtf8());

        a.c().send(update(4, ofB, "load", "0"));
        assertEquals(Error.Code.FORBIDDEN, errorCode(a.c().next()), "only b may update b's attributes");
        String g = newGroup("attrs");
        a.c().send(update(5, AttributeTarget.newBuilder().setGroup(g).build(), "k", "v"));
        assertEquals(Error.Code.FORBIDDEN, errorCode(a.c().next()), "only members may update a group's attributes");
    }

    @Test
    void aComponentThatDisconnectsWhileJoiningDoesNotStayAMember() throws Exception {
        Component b = connect();
        String g = newGroup("race");
        b.c().send(register(1, g));
        b.c().close(); // before the Membership answer
        Thread.sleep(500); // the join's ring write (milliseconds on one node) has completed by now
        Await.until(b.id() + " to leave " + g, Duration.ofSeconds(5), () -> {}, () -> members(g).isEmpty());
        Thread.sleep(300);
        assertTrue(members(g).isEmpty(), "and it stays out");
    }

    @Test
    void componentsOfALostNodeGoAwayUnlessTheyConnectedAgain() throws Exception {
        Component a = connect();
        String g = newGroup("on-lost-node");
        // Two components the ring says are connected to node "gone": one still is (as far as anyone knows),
        // the other has since connected again elsewhere (a newer location).
        String dead = newComponent();
        String moved = newComponent();
        Location deadAt = Location.newBuilder().setNode("gone").setSession(7).setIncarnation(3).build();
        Location movedFrom = Location.newBuilder().setNode("gone").setSession(8).setIncarnation(3).build();
        Location movedTo = Location.newBuilder().setNode("elsewhere").setSession(9).setIncarnation(4).build();
        records.setLocation(dead, deadAt).toCompletableFuture().get(5, TimeUnit.SECONDS);
        records.addConnected(dead, deadAt).toCompletableFuture().get(5, TimeUnit.SECONDS);
        records.addMember(g, dead, 7).toCompletableFuture().get(5, TimeUnit.SECONDS);
        records.setLocation(moved, movedTo).toCompletableFuture().get(5, TimeUnit.SECONDS);
        records.addConnected(moved, movedFrom).toCompletableFuture().get(5, TimeUnit.SECONDS);
        records.addMember(g, moved, 9).toCompletableFuture().get(5, TimeUnit.SECONDS);
        a.c().send(monitorGroup(1, g));
        expectOk(a.c(), 1);
        a.c().send(monitorComponent(2, dead));
        expectOk(a.c(), 2);

        assertEquals(1, router.nodeLost("gone", 3).toCompletableFuture().get(10, TimeUnit.SECONDS));
        GoneEvents gone = leftAndDown(a.c());
        GroupChanged left = gone.left();
        ComponentDown down = gone.down();
        assertEquals(dead, left.getComponent());
        assertEquals("node gone lost", left.getReason());
        assertEquals(dead, down.getComponent());
        assertEquals("node gone lost", down.getReason());
        a.c().expectNothing(Duration.ofMillis(100));
        assertEquals(Set.of(moved), members(g), "the component that connected again stays a member");
        assertTrue(records.location(dead).toCompletableFuture().get(5, TimeUnit.SECONDS).isEmpty());
        assertEquals(movedTo, records.location(moved).toCompletableFuture().get(5, TimeUnit.SECONDS).orElseThrow());
        assertTrue(records.connected("gone").toCompletableFuture().get(5, TimeUnit.SECONDS).isEmpty(), "nothing left to clean up");
        assertEquals(0, router.nodeLost("gone", 3).toCompletableFuture().get(10, TimeUnit.SECONDS), "a second clean-up finds nothing");
    }

    /** What a watcher of a group and of a component in it hears when the component goes away: a leave and a down. */
    private record GoneEvents(GroupChanged left, ComponentDown down) {}

    private GoneEvents leftAndDown(HarnessConnection c) {
        GroupChanged left = null;
        ComponentDown down = null;
        for (int i = 0; i < 2; i++) {
            Frame f = expectEvent(c);
            if (f.getEvent().hasGroupChanged()) {
                left = f.getEvent().getGroupChanged();
            } else {
                down = f.getEvent().getComponentDown();
            }
        }
        assertTrue(left != null && down != null, "a left event and a component_down event");
        return new GoneEvents(left, down);
    }

    private Set<String> members(String g) {
        try {
            return records.members(g).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
