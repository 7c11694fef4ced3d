package io.smalti.node.controller;

import static io.smalti.node.controller.NodeState.AVAILABLE;
import static io.smalti.node.controller.NodeState.DESTROYED;
import static io.smalti.node.controller.NodeState.DESTROYING;
import static io.smalti.node.controller.NodeState.FAILED;
import static io.smalti.node.controller.NodeState.INITIALIZING;
import static io.smalti.node.controller.NodeState.OFFLINE;
import static io.smalti.node.controller.NodeState.UNAVAILABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.node.controller.NodeLifecycle.Transition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class NodeLifecycleTest {

    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private MutableClock clock;
    private NodeLifecycle node;
    private List<Transition> told;

    @BeforeEach
    void setUp() {
        clock = new MutableClock(T0);
        node = new NodeLifecycle(TIMEOUT, clock);
        told = Collections.synchronizedList(new ArrayList<>());
        node.addListener(told::add);
    }

    /** Drives a fresh lifecycle into {@code target} through legal events. */
    private NodeLifecycle in(NodeState target) {
        NodeLifecycle n = new NodeLifecycle(TIMEOUT, clock);
        switch (target) {
            case INITIALIZING -> { }
            case AVAILABLE -> n.started();
            case UNAVAILABLE -> { n.started(); n.markUnavailable("maintenance"); }
            case OFFLINE -> { n.started(); n.seenOffline(clock.instant()); }
            case FAILED -> { n.started(); n.seenOffline(clock.instant()); n.tick(clock.instant().plus(TIMEOUT)); }
            case DESTROYING -> n.destroy();
            case DESTROYED -> { n.destroy(); n.destroyed(); }
        }
        assertEquals(target, n.state());
        return n;
    }

    private void assertTransition(NodeState from, NodeState to) {
        Transition last = told.get(told.size() - 1);
        assertEquals(from, last.from());
        assertEquals(to, last.to());
        assertEquals(to, node.state());
        assertEquals(last, node.history().get(node.history().size() - 1));
    }

    @Test
    void startsInitializingAndAcceptsNothing() {
        assertEquals(INITIALIZING, node.state());
        assertEquals(T0, node.since());
        assertFalse(node.acceptsInstances());
        assertTrue(node.history().isEmpty());
    }

    @Test
    void startedMakesItAvailable() {
        clock.advance(Duration.ofSeconds(3));
        assertTrue(node.started());
        assertTransition(INITIALIZING, AVAILABLE);
        assertTrue(node.acceptsInstances());
        assertEquals(T0.plusSeconds(3), node.since());
        assertEquals("started", told.get(0).reason());
    }

    @Test
    void operatorMarksUnavailableAndAvailable() {
        node.started();
        assertTrue(node.markUnavailable("kernel upgrade"));
        assertTransition(AVAILABLE, UNAVAILABLE);
        assertEquals("kernel upgrade", told.get(told.size() - 1).reason());
        assertFalse(node.acceptsInstances());
        assertFalse(node.markUnavailable("again"), "repeat is a no-op");
        assertTrue(node.markAvailable());
        assertTransition(UNAVAILABLE, AVAILABLE);
        assertFalse(node.markAvailable(), "repeat is a no-op");
        assertTrue(node.acceptsInstances());
        assertEquals(3, node.history().size());
    }

    @Test
    void markUnavailableNeedsAReason() {
        node.started();
        assertThrows(IllegalArgumentException.class, () -> node.markUnavailable(" "));
        assertThrows(NullPointerException.class, () -> node.markUnavailable(null));
        assertEquals(AVAILABLE, node.state());
    }

    @Test
    void offlineAndBackOnlineReturnsToAvailable() {
        node.started();
        Instant lost = T0.plusSeconds(10);
        assertTrue(node.seenOffline(lost));
        assertTransition(AVAILABLE, OFFLINE);
        assertEquals(lost, node.since());
        assertFalse(node.acceptsInstances());
        assertTrue(node.seenOnline());
        assertTransition(OFFLINE, AVAILABLE);
        assertFalse(node.seenOnline(), "already online");
    }

    @Test
    void operatorUnavailabilitySurvivesAnOutage() {
        node.started();
        node.markUnavailable("drain");
        node.seenOffline(T0);
        assertTransition(UNAVAILABLE, OFFLINE);
        node.seenOnline();
        assertTransition(OFFLINE, UNAVAILABLE);
    }

    @Test
    void initializingNodeCanGoOfflineAndComeBack() {
        assertTrue(node.seenOffline(T0));
        assertTransition(INITIALIZING, OFFLINE);
        node.seenOnline();
        assertTransition(OFFLINE, INITIALIZING);
    }

    @Test
    void offlineTurnsFailedAfterTheTimeoutFromTheFirstReport() {
        node.started();
        Instant lost = T0.plusSeconds(60);
        node.seenOffline(lost);
        assertFalse(node.seenOffline(lost.plusSeconds(100)), "a repeated report must not restart the timeout");
        assertEquals(lost, node.since());
        assertFalse(node.tick(lost.plus(TIMEOUT).minusMillis(1)));
        assertEquals(OFFLINE, node.state());
        assertTrue(node.tick(lost.plus(TIMEOUT)));
        assertTransition(OFFLINE, FAILED);
        assertEquals(lost.plus(TIMEOUT), node.since());
        assertTrue(told.get(told.size() - 1).reason().contains("timeout"));
        assertFalse(node.tick(lost.plus(TIMEOUT).plusSeconds(1)), "already failed");
    }

    @Test
    void tickDoesNothingOutsideOffline() {
        node.started();
        assertFalse(node.tick(T0.plus(Duration.ofDays(1))));
        assertEquals(AVAILABLE, node.state());
    }

    @Test
    void failedNodeSeenAgainRejoinsThroughInitializing() {
        node.started();
        node.seenOffline(T0);
        node.tick(T0.plus(TIMEOUT));
        assertFalse(node.seenOffline(T0.plus(TIMEOUT)), "failed stays failed");
        assertTrue(node.seenOnline());
        assertTransition(FAILED, INITIALIZING);
        node.started();
        assertTransition(INITIALIZING, AVAILABLE);
    }

    @ParameterizedTest
    @EnumSource(value = NodeState.class, names = {"INITIALIZING", "AVAILABLE", "UNAVAILABLE", "OFFLINE", "FAILED"})
    void destroyFromAnyLiveState(NodeState from) {
        NodeLifecycle n = in(from);
        List<Transition> seen = new ArrayList<>();
        n.addListener(seen::add);
        assertTrue(n.destroy());
        assertEquals(DESTROYING, n.state());
        assertFalse(n.destroy(), "repeat is a no-op");
        assertTrue(n.destroyed());
        assertEquals(DESTROYED, n.state());
        assertFalse(n.destroyed(), "repeat is a no-op");
        assertEquals(List.of(from, DESTROYING), seen.stream().map(Transition::from).toList());
        assertEquals(List.of(DESTROYING, DESTROYED), seen.stream().map(Transition::to).toList());
    }

    @ParameterizedTest
    @EnumSource(NodeState.class)
    void illegalTransitionsThrowNamingFromAndTo(NodeState from) {
        record Event(String name, NodeState to, EnumSet<NodeState> legalOrNoOp, Consumer<NodeLifecycle> fire) { }
        List<Event> events = List.of(
                new Event("started()", AVAILABLE, EnumSet.of(INITIALIZING), NodeLifecycle::started),
                new Event("markUnavailable()", UNAVAILABLE, EnumSet.of(AVAILABLE, UNAVAILABLE),
                        n -> n.markUnavailable("x")),
                new Event("markAvailable()", AVAILABLE, EnumSet.of(AVAILABLE, UNAVAILABLE),
                        NodeLifecycle::markAvailable),
                new Event("destroy()", DESTROYING, EnumSet.complementOf(EnumSet.of(DESTROYED)),
                        NodeLifecycle::destroy),
                new Event("destroyed()", DESTROYED, EnumSet.of(DESTROYING, DESTROYED), NodeLifecycle::destroyed));
        for (Event e : events) {
            NodeLifecycle n = in(from);
            int before = n.history().size();
            if (e.legalOrNoOp().contains(from)) {
                e.fire().accept(n); // must not throw
                continue;
            }
            IllegalStateException ex = assertThrows(IllegalStateException.class, () -> e.fire().accept(n),
                    e.name() + " in " + from);
            assertTrue(ex.getMessage().contains(from + " -> " + e.to()), ex.getMessage());
            assertTrue(ex.getMessage().contains(e.name()), ex.getMessage());
            assertEquals(from, n.state(), "state unchanged");
            assertEquals(before, n.history().size(), "nothing recorded");
        }
    }

    @ParameterizedTest
    @EnumSource(value = NodeState.class, names = {"FAILED", "DESTROYING", "DESTROYED"})
    void peersViewNeverThrowsOnNodesGoingAway(NodeState from) {
        NodeLifecycle n = in(from);
        assertFalse(n.seenOffline(T0));
        assertEquals(from, n.state());
        if (from != FAILED) {
            assertFalse(n.seenOnline());
            assertEquals(from, n.state());
        }
    }

    @Test
    void markAvailableOnFailedIsIllegal() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> in(FAILED).markAvailable());
        assertTrue(e.getMessage().contains("FAILED -> AVAILABLE"), e.getMessage());
    }

    @Test
    void historyKeepsTheLastFifty() {
        node.started();
        for (int i = 0; i < 40; i++) {
            node.markUnavailable("round " + i);
            node.markAvailable();
        }
        List<Transition> h = node.history();
        assertEquals(NodeLifecycle.HISTORY_LIMIT, h.size());
        assertEquals(81, told.size());
        assertEquals(told.subList(31, 81), h);
        assertThrows(UnsupportedOperationException.class, () -> h.clear());
    }

    @Test
    void listenersAreToldOutsideTheLock() throws Exception {
        List<NodeState> seenFromOtherThread = new ArrayList<>();
        node.addListener(t -> {
            // Another thread must be able to read the state while we are in the listener.
            NodeState s = CompletableFuture.supplyAsync(node::state).orTimeout(2, TimeUnit.SECONDS).join();
            seenFromOtherThread.add(s);
        });
        node.started();
        assertEquals(List.of(AVAILABLE), seenFromOtherThread);
    }

    @Test
    void listenerMayTriggerTransitionsAndOrderIsKept() {
        List<String> second = new ArrayList<>();
        node.addListener(t -> {
            if (t.to() == FAILED) {
                node.destroy(); // re-entrant: delivered after this one to every listener
            }
        });
        node.addListener(t -> second.add(t.from() + ">" + t.to()));
        node.started();
        node.seenOffline(T0);
        node.tick(T0.plus(TIMEOUT));
        assertEquals(DESTROYING, node.state());
        assertEquals(List.of("INITIALIZING>AVAILABLE", "AVAILABLE>OFFLINE", "OFFLINE>FAILED", "FAILED>DESTROYING"),
                second);
    }

    @Test
    void throwingListenerDoesNotStopOthersOrTheCaller() {
        List<Transition> after = new ArrayList<>();
        node.addListener(t -> {
            throw new RuntimeException("boom (expected in this test)");
        });
        node.addListener(after::add);
        assertTrue(node.started());
        assertEquals(1, after.size());
    }

    @Test
    void removedListenerIsNotToldAnymore() {
        List<Transition> seen = new ArrayList<>();
        Consumer<Transition> listener = seen::add;
        node.addListener(listener);
        node.started();
        assertTrue(node.removeListener(listener));
        assertFalse(node.removeListener(listener));
        node.markUnavailable("x");
        assertEquals(1, seen.size());
    }

    @Test
    void concurrentTransitionsAreAllRecordedAndToldInOrder() throws Exception {
        node.started();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            threads.add(new Thread(() -> {
                for (int j = 0; j < 200; j++) {
                    try {
                        node.markUnavailable("t");
                    } catch (IllegalStateException ignored) {
                        // another thread got there first
                    }
                    node.markAvailable();
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(10_000);
        }
        // Every transition told must start where the previous one ended.
        synchronized (told) {
            for (int i = 1; i < told.size(); i++) {
                assertEquals(told.get(i - 1).to(), told.get(i).from(), "at " + i);
            }
        }
        assertEquals(AVAILABLE, node.state());
    }
}
