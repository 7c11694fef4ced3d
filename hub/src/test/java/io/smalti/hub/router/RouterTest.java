package io.smalti.hub.router;

import static io.smalti.hub.testing.Frames.call;
import static io.smalti.hub.testing.Frames.cast;
import static io.smalti.hub.testing.Frames.component;
import static io.smalti.hub.testing.Frames.errorCode;
import static io.smalti.hub.testing.Frames.group;
import static io.smalti.hub.testing.Frames.register;
import static io.smalti.hub.testing.Frames.reply;
import static io.smalti.hub.testing.Frames.select;
import static io.smalti.hub.testing.OneNodeRing.newComponent;
import static io.smalti.hub.testing.OneNodeRing.newGroup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.hub.endpoint.HarnessConnection;
import io.smalti.hub.testing.OneNodeRing;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Selector;
import io.smalti.protocol.hub.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Calls, casts and group calls between components connected to one router, with their errors, expiry and overload. */
class RouterTest extends RouterFixture {

    /** Joins groups and checks the Membership answer. */
    private void join(Component m, String group, int expectedCount) {
        m.c().send(register(50, group));
        Frame f = m.c().next();
        assertTrue(f.hasMembership(), f.toString());
        assertEquals(50, f.getCorrelation());
        assertEquals(group, f.getMembership().getGroups(0).getGroup());
        assertEquals(expectedCount, f.getMembership().getGroups(0).getMembers());
    }

    /** The call a callee received, checked to be one. */
    private static Call received(Frame f) {
        assertTrue(f.hasCall(), "expected a delivered Call, got " + f);
        assertNotEquals(0, f.getCorrelation(), "a delivered call carries the correlation its answer must echo");
        return f.getCall();
    }

    @Test
    void aCallReachesTheCalleeAndItsReplyReachesTheCaller() {
        Component a = connect();
        Component b = connect();
        a.c().send(call(7, component(b.id()), "echo", "hi", 5_000));
        Frame delivered = b.c().next();
        Call call = received(delivered);
        assertEquals(a.id(), call.getCaller());
        assertEquals("echo", call.getOperation());
        assertEquals("hi", call.getInputs().toStringUtf8());
        assertTrue(delivered.getTimeoutMs() > 0 && delivered.getTimeoutMs() <= 5_000,
                "the time left, got " + delivered.getTimeoutMs());

        b.c().send(reply(delivered.getCorrelation(), "hi back"));
        Frame answer = a.c().next();
        assertEquals(7, answer.getCorrelation());
        assertTrue(answer.hasReply(), answer.toString());
        assertEquals(1, answer.getReply().getResultsCount());
        Result r = answer.getReply().getResults(0);
        assertEquals(b.id(), r.getFrom());
        assertEquals("hi back", r.getOutputs().toStringUtf8());
        assertFalse(r.hasError());
    }

    @Test
    void manyCallsInFlightAreEachAnsweredUnderTheirOwnCorrelation() {
        Component a = connect();
        Component b = connect();
        for (int i = 1; i <= 20; i++) {
            a.c().send(call(i, component(b.id()), "n", Integer.toString(i), 5_000));
        }
        List<Frame> delivered = b.c().next(20);
        // Answer in reverse order: the answers must still find their calls.
        for (int i = delivered.size() - 1; i >= 0; i--) {
            Frame d = delivered.get(i);
            b.c().send(reply(d.getCorrelation(), "re " + d.getCall().getInputs().toStringUtf8()));
        }
        Set<Long> seen = new HashSet<>();
        for (Frame f : a.c().next(20)) {
            assertEquals("re " + f.getCorrelation(), f.getReply().getResults(0).getOutputs().toStringUtf8());
            seen.add(f.getCorrelation());
        }
        assertEquals(20, seen.size());
    }

    @Test
    void aCastArrivesWithItsCallerAndNoCorrelation() {
        Component a = connect();
        Component b = connect();
        a.c().send(cast(0, component(b.id()), "note", "fyi"));
        Frame f = b.c().next();
        assertTrue(f.hasCast(), f.toString());
        assertEquals(0, f.getCorrelation());
        assertEquals(a.id(), f.getCast().getCaller());
        assertEquals("fyi", f.getCast().getInputs().toStringUtf8());
        a.c().expectNothing(Duration.ofMillis(100));
    }

    @Test
    void aCallToAComponentThatIsNotConnectedIsUnknownTarget() {
        Component a = connect();
        a.c().send(call(3, component(newComponent()), "x", "", 5_000));
        Frame f = a.c().next();
        assertEquals(Error.Code.UNKNOWN_TARGET, errorCode(f), f.toString());
        assertEquals(3, f.getCorrelation());
    }

    @Test
    void aCastToAComponentThatIsNotConnectedIsReportedOnlyWhenItHasACorrelation() {
        Component a = connect();
        a.c().send(cast(0, component(newComponent()), "x", ""));
        a.c().send(cast(4, component(newComponent()), "x", ""));
        Frame f = a.c().next();
        assertEquals(Error.Code.UNKNOWN_TARGET, errorCode(f), f.toString());
        assertEquals(4, f.getCorrelation());
        a.c().expectNothing(Duration.ofMillis(200));
    }

    @Test
    void aCallToAComponentThatDisconnectedIsUnknownTarget() {
        Component a = connect();
        Component b = connect();
        b.c().close();
        a.c().send(call(5, component(b.id()), "x", "", 5_000));
        Frame f = a.c().next();
        assertEquals(Error.Code.UNKNOWN_TARGET, errorCode(f), f.toString());
    }

    @Test
    void requestsWithABadTargetAreBadRequests() {
        Component a = connect();
        a.c().send(call(1, Target.getDefaultInstance(), "x", "", 5_000));
        a.c().send(call(2, component("abc"), "x", "", 5_000));
        a.c().send(call(3, group("bad\u0007name", Selector.ANY), "x", "", 5_000));
        a.c().send(call(4, group("", Selector.ANY), "x", "", 5_000));
        for (Frame f : a.c().next(4)) {
            assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        }
    }

    @Test
    void aCallToAGroupWithoutMembersFailsAtOnceWithNoMembers() {
        Component a = connect();
        long start = System.nanoTime();
        a.c().send(call(9, group(newGroup("nobody"), Selector.ANY), "x", "", 30_000));
        Frame f = a.c().next();
        assertEquals(Error.Code.NO_MEMBERS, errorCode(f), f.toString());
        assertEquals(9, f.getCorrelation());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 5, "not held until the timeout");
    }

    @Test
    void aGroupMemberIsSelectedAndCalledWithAllAndAny() {
        Component a = connect();
        Component b = connect();
        String g = newGroup("g");
        join(b, g, 1);

        a.c().send(select(2, g, Selector.ALL));
        Frame members = a.c().next();
        assertEquals(List.of(b.id()), members.getMembers().getComponentsList());

        a.c().send(call(3, group(g, Selector.ALL), "sum", "1", 5_000));
        Frame d = b.c().next();
        assertEquals(a.id(), received(d).getCaller());
        b.c().send(reply(d.getCorrelation(), "one"));
        Frame all = a.c().next();
        assertEquals(3, all.getCorrelation());
        assertEquals(1, all.getReply().getAsked());
        assertEquals(1, all.getReply().getResultsCount());
        assertEquals(b.id(), all.getReply().getResults(0).getFrom());
        assertEquals("one", all.getReply().getResults(0).getOutputs().toStringUtf8());

        a.c().send(call(4, group(g, Selector.ANY), "sum", "2", 5_000));
        Frame d2 = b.c().next();
        b.c().send(reply(d2.getCorrelation(), "two"));
        Frame any = a.c().next();
        assertEquals(4, any.getCorrelation());
        assertEquals("two", any.getReply().getResults(0).getOutputs().toStringUtf8());
    }

    @Test
    void aCallToAllGathersTheAnswersThatCameInTime() {
        Component a = connect();
        Component b = connect();
        Component c = connect();
        String g = newGroup("all");
        join(b, g, 1);
        join(c, g, 2);
        a.c().send(call(6, group(g, Selector.ALL), "vote", "", 800));
        Frame toB = b.c().next();
        received(c.c().next()); // c never answers
        b.c().send(reply(toB.getCorrelation(), "yes"));
        Frame f = a.c().next();
        assertEquals(6, f.getCorrelation());
        assertTrue(f.hasReply(), "what arrived before the timeout, got " + f);
        assertEquals(2, f.getReply().getAsked());
        assertEquals(1, f.getReply().getResultsCount());
        assertEquals(b.id(), f.getReply().getResults(0).getFrom());
    }

    /** A member the ring still lists but that is connected nowhere (its node was lost, say). */
    private String ghostMember(String group) throws Exception {
        String ghost = newComponent();
        records.addMember(group, ghost, 1).toCompletableFuture().get(10, TimeUnit.SECONDS);
        return ghost;
    }

    @Test
    void anAnyCallTriesAnotherMemberWhenTheChosenOneIsGone() throws Exception {
        Component a = connect();
        Component b = connect();
        String g = newGroup("ghosts");
        ghostMember(g);
        join(b, g, 2);
        // Ten calls: the ghost is picked first in some of them (all but 1 in 1024 runs) and the call moves on to b.
        for (int i = 1; i <= 10; i++) {
            a.c().send(call(i, group(g, Selector.ANY), "n", "", 5_000));
            Frame d = b.c().next();
            b.c().send(reply(d.getCorrelation(), "b"));
            Frame f = a.c().next();
            assertEquals(i, f.getCorrelation());
            assertEquals(b.id(), f.getReply().getResults(0).getFrom(), f.toString());
        }
    }

    @Test
    void aGroupWhoseOnlyMemberIsGoneAnswersNoMembersForAnyAndAFailedResultForAll() throws Exception {
        Component a = connect();
        String g = newGroup("ghost-only");
        String ghost = ghostMember(g);
        a.c().send(call(1, group(g, Selector.ANY), "n", "", 5_000));
        Frame any = a.c().next();
        assertEquals(Error.Code.NO_MEMBERS, errorCode(any), any.toString());
        a.c().send(call(2, group(g, Selector.ALL), "n", "", 5_000));
        Frame all = a.c().next();
        assertEquals(1, all.getReply().getAsked(), all.toString());
        assertEquals(ghost, all.getReply().getResults(0).getFrom());
        assertEquals(Error.Code.UNKNOWN_TARGET, all.getReply().getResults(0).getError().getCode());
    }

    @Test
    void aCallNobodyAnswersExpiresAndALateReplyIsDropped() {
        Component a = connect();
        Component b = connect();
        long start = System.nanoTime();
        a.c().send(call(12, component(b.id()), "slow", "", 200));
        Frame delivered = b.c().next();
        Frame f = a.c().next();
        long tookMs = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertEquals(Error.Code.EXPIRED, errorCode(f), f.toString());
        assertEquals(12, f.getCorrelation());
        assertTrue(tookMs >= 190, "not before the timeout: " + tookMs + " ms");

        b.c().send(reply(delivered.getCorrelation(), "too late"));
        a.c().expectNothing(Duration.ofMillis(300));
        assertTrue(router.stats().lateAnswers.sum() >= 1);
    }

    @Test
    void anErrorFrameFromTheCalleeEndsTheCallAsItsResult() {
        Component a = connect();
        Component b = connect();
        a.c().send(call(13, component(b.id()), "x", "", 5_000));
        Frame d = b.c().next();
        b.c().send(Frame.newBuilder().setCorrelation(d.getCorrelation()).setError(Error.newBuilder()
                .setCode(Error.Code.OVERLOADED).setMessage("component queue full")).build());
        Frame f = a.c().next();
        assertEquals(13, f.getCorrelation());
        Result r = f.getReply().getResults(0);
        assertEquals(b.id(), r.getFrom());
        assertEquals(Error.Code.OVERLOADED, r.getError().getCode());
    }

    /** OVERLOADED for a call to {@code callee}: an Error frame, or (as this hub answers today) the callee's Result. */
    private static boolean overloaded(Frame f, String callee) {
        if (f.hasError()) {
            return f.getError().getCode() == Error.Code.OVERLOADED;
        }
        return f.hasReply() && f.getReply().getResultsCount() == 1 && f.getReply().getResults(0).getFrom().equals(callee)
                && f.getReply().getResults(0).getError().getCode() == Error.Code.OVERLOADED;
    }

    /** A router whose connections take 1 KiB before they count as full. */
    private Router smallQueues() {
        return new Router(OneNodeRing.NODE, 1, records, new HubSettings("127.0.0.1", 0, 1 << 20, Duration.ofSeconds(30),
                1024, 512, Duration.ofSeconds(5), Duration.ofMillis(500), 1, Duration.ofSeconds(5)));
    }

    @Test
    void callsToAComponentThatDoesNotReadAreAnsweredOverloadedNotQueued() {
        try (Router small = smallQueues()) {
            HarnessConnection a = HarnessConnection.connect(small, newComponent());
            String bId = newComponent();
            HarnessConnection b = HarnessConnection.connect(small, bId);
            open.add(a);
            open.add(b);
            String payload = "p".repeat(300);
            int calls = 40; // about 13 KiB
            // b does not read (the test runs none of its tasks): what the hub writes to it piles up. a reads.
            for (int i = 1; i <= calls; i++) {
                a.send(call(i, component(bId), "fill", payload, 10_000));
                a.runTasks();
            }
            List<Frame> refused = new ArrayList<>();
            Frame f;
            while ((f = pollQuickly(a)) != null) {
                assertTrue(overloaded(f, bId), "expected OVERLOADED, got " + f);
                refused.add(f);
            }
            int queued = calls - refused.size();
            assertTrue(queued >= 1 && queued <= calls / 2,
                    "a few KiB of calls (a small multiple of the 1 KiB limit) queued to b, got " + queued);

            // b reads what was queued, answers, and is served again.
            List<Frame> delivered = b.next(queued);
            b.expectNothing(Duration.ofMillis(50));
            for (Frame d : delivered) {
                b.send(reply(d.getCorrelation(), "done"));
            }
            assertEquals(queued, a.next(queued).stream().filter(r -> r.hasReply() && !overloaded(r, bId)).count());
            a.send(call(99, component(bId), "again", "", 5_000));
            assertEquals("again", received(b.next()).getOperation());
        }
    }

    private static Frame pollQuickly(HarnessConnection c) {
        try {
            return c.next(Duration.ofMillis(100));
        } catch (AssertionError e) {
            return null;
        }
    }

    @Test
    void aCastWithACorrelationToAComponentThatDoesNotReadIsAnsweredOverloaded() {
        try (Router small = smallQueues()) {
            HarnessConnection a = HarnessConnection.connect(small, newComponent());
            String bId = newComponent();
            HarnessConnection b = HarnessConnection.connect(small, bId);
            open.add(a);
            open.add(b);
            String payload = "p".repeat(300);
            for (int i = 0; i < 40; i++) {
                a.send(cast(0, component(bId), "fill", payload)); // b does not read: its queue fills
                a.runTasks();
            }
            assertTrue(small.stats().overloaded.sum() > 0, "b's queue is full and refuses");
            a.send(cast(21, component(bId), "more", "x"));
            Frame f = a.next(Duration.ofSeconds(2));
            assertEquals(Error.Code.OVERLOADED, errorCode(f), f.toString());
            assertEquals(21, f.getCorrelation());
        }
    }
}
