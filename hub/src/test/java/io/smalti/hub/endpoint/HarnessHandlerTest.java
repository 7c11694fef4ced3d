package io.smalti.hub.endpoint;

import static io.smalti.hub.testing.Frames.call;
import static io.smalti.hub.testing.Frames.component;
import static io.smalti.hub.testing.Frames.errorCode;
import static io.smalti.hub.testing.Frames.hello;
import static io.smalti.hub.testing.Frames.reply;
import static io.smalti.hub.testing.Frames.select;
import static io.smalti.hub.testing.OneNodeRing.newComponent;
import static io.smalti.hub.testing.OneNodeRing.newGroup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.smalti.hub.router.HubSettings;
import io.smalti.hub.router.Router;
import io.smalti.ring.testing.Await;
import io.smalti.hub.testing.OneNodeRing;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.Selector;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A harness connection's session protocol (hello, Welcome, refusals, bad and oversize frames) as the harness sees it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OneNodeRing.Extension.class)
class HarnessHandlerTest {
    private static final int MAX_FRAME = 16 << 10;

    private OneNodeRing ring;
    private Router router;

    @BeforeAll
    void start(OneNodeRing ring) {
        this.ring = ring;
        router = new Router(OneNodeRing.NODE, 1, ring.records(), new HubSettings("127.0.0.1", 0, MAX_FRAME,
                Duration.ofSeconds(30), 1 << 20, 256 << 10, Duration.ofSeconds(5), Duration.ofMillis(500), 1, Duration.ofSeconds(5)));
    }

    @AfterAll
    void stop() {
        router.close();
    }

    private Optional<Location> location(String component) {
        try {
            return ring.records().location(component).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void helloIsAnsweredWithWelcomeOnceTheLocationIsRecorded() {
        String id = newComponent();
        HarnessConnection c = new HarnessConnection(router);
        c.send(hello(id.toUpperCase()));
        Frame f = c.next();
        assertTrue(f.hasWelcome(), f.toString());
        assertEquals(1, f.getCorrelation(), "the Welcome echoes the hello's correlation");
        assertEquals(1, f.getWelcome().getVersion());
        assertEquals(id, f.getWelcome().getComponent(), "the id in its lower-case form");
        assertEquals(OneNodeRing.NODE, f.getWelcome().getNode());
        assertEquals(MAX_FRAME, f.getWelcome().getMaxFrame());
        assertEquals(OneNodeRing.NODE, location(id).orElseThrow().getNode(), "where the component is connected");
        c.close();
    }

    @Test
    void aSecondHelloIsRefusedAndTheConnectionGoesOn() {
        HarnessConnection c = HarnessConnection.connect(router, newComponent());
        c.send(hello(newComponent()).toBuilder().setCorrelation(5).build());
        Frame f = c.next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        assertEquals(5, f.getCorrelation());
        assertTrue(c.isOpen());
        c.send(select(6, newGroup("empty"), Selector.ALL));
        Frame members = c.next();
        assertTrue(members.hasMembers(), members.toString());
        assertEquals(6, members.getCorrelation());
        c.close();
    }

    @Test
    void aFirstFrameThatIsNotHelloIsRefusedAndTheConnectionClosed() {
        HarnessConnection c = new HarnessConnection(router);
        c.send(select(3, "g", Selector.ANY));
        Frame f = c.next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        assertEquals(3, f.getCorrelation());
        assertFalse(c.isOpen());
    }

    @Test
    void anotherVersionIsRefusedAndTheComponentIsNotRecorded() {
        String id = newComponent();
        HarnessConnection c = new HarnessConnection(router);
        c.send(hello(2, id));
        Frame f = c.next();
        assertEquals(Error.Code.UNSUPPORTED_VERSION, errorCode(f), f.toString());
        assertFalse(c.isOpen());
        assertTrue(location(id).isEmpty(), "a refused hello makes nobody reachable");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "xyz", "0123456789abcdef0123456789abcdef0123456g",
            "0000000000000000000000000000000000000000"})
    void aBadComponentIdIsRefusedAndTheConnectionClosed(String id) {
        HarnessConnection c = new HarnessConnection(router);
        c.send(hello(id));
        Frame f = c.next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        assertFalse(c.isOpen());
    }

    @Test
    void bytesThatAreNotAFrameAreRefusedAndTheConnectionGoesOn() {
        HarnessConnection c = HarnessConnection.connect(router, newComponent());
        // 0xff: field 31 with wire type 7, which protobuf does not have.
        c.sendRaw(Unpooled.buffer().writeInt(3).writeBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}));
        Frame f = c.next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        assertEquals(0, f.getCorrelation(), "no correlation could be read");
        // A hello (field 10) that claims 5 bytes and has 1.
        c.sendRaw(Unpooled.buffer().writeInt(3).writeBytes(new byte[] {0x52, 0x05, 0x01}));
        assertEquals(Error.Code.BAD_REQUEST, errorCode(c.next()));
        assertTrue(c.isOpen());
        c.send(select(8, newGroup("empty"), Selector.ANY));
        Frame members = c.next();
        assertTrue(members.hasMembers(), "a later request is answered: " + members);
        assertEquals(8, members.getCorrelation());
        c.close();
    }

    @Test
    void bytesThatAreNotAFrameInsteadOfAHelloCloseTheConnection() {
        HarnessConnection c = new HarnessConnection(router);
        c.sendRaw(Unpooled.buffer().writeInt(2).writeBytes(new byte[] {(byte) 0xff, (byte) 0xff}));
        assertEquals(Error.Code.BAD_REQUEST, errorCode(c.next()));
        assertFalse(c.isOpen());
    }

    @Test
    void aFrameWithABodyThisHubDoesNotKnowIsRefusedWithItsCorrelation() {
        HarnessConnection c = HarnessConnection.connect(router, newComponent());
        // correlation 9, then field 99 (a body type from a newer protocol), length-delimited, 2 bytes.
        byte[] newer = {0x08, 0x09, (byte) 0x9a, 0x06, 0x02, 0x08, 0x01};
        c.sendRaw(Unpooled.buffer().writeInt(newer.length).writeBytes(newer));
        Frame f = c.next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(f), f.toString());
        assertEquals(9, f.getCorrelation());
        assertTrue(c.isOpen());
        c.close();
    }

    @Test
    void aRequestBeforeTheWelcomeIsRefusedThenTheWelcomeComes() {
        HarnessConnection c = new HarnessConnection(router);
        c.send(hello(newComponent()));
        c.send(select(4, "g", Selector.ANY)); // the location write is still under way
        Frame first = c.next();
        assertEquals(Error.Code.BAD_REQUEST, errorCode(first), first.toString());
        assertEquals(4, first.getCorrelation());
        assertTrue(c.next().hasWelcome());
        c.send(select(5, newGroup("empty"), Selector.ANY));
        assertTrue(c.next().hasMembers());
        c.close();
    }

    @Test
    void anOversizeFrameIsRefusedWithTooLargeAndTheComponentGoesAway() {
        String id = newComponent();
        HarnessConnection c = HarnessConnection.connect(router, id);
        c.sendRaw(Unpooled.buffer().writeInt(MAX_FRAME + 1).writeZero(64)); // the rest never needs to come
        Frame f = c.next();
        assertEquals(Error.Code.TOO_LARGE, errorCode(f), f.toString());
        assertFalse(c.isOpen());
        Await.until("the location of " + id + " to be cleared", Duration.ofSeconds(10), c::runTasks,
                () -> location(id).isEmpty());
    }

    @Test
    void aHarnessThatLeavesBeforeItsWelcomeIsNotLeftRecorded() {
        String id = newComponent();
        HarnessConnection c = new HarnessConnection(router);
        c.send(hello(id));
        c.channel().close(); // before the location write completes and the handler goes on
        Await.until("the location of " + id + " to be written", () -> location(id).isPresent());
        Await.until("the location of " + id + " to be cleared", Duration.ofSeconds(10), c::runTasks,
                () -> location(id).isEmpty());
        c.expectNothing(Duration.ZERO);
        HarnessConnection caller = HarnessConnection.connect(router, newComponent());
        caller.send(call(2, component(id), "ping", "", 5_000));
        assertEquals(Error.Code.UNKNOWN_TARGET, errorCode(caller.next()));
        caller.close();
    }

    /**
     * Regression (a2a81fe): a call can reach a component as soon as its location is written, before the
     * handler has written its Welcome; the harness must still read the Welcome first.
     */
    @Test
    void aCallThatArrivesBeforeTheWelcomeIsWrittenComesAfterIt() {
        String b = newComponent();
        HarnessConnection callee = new HarnessConnection(router);
        HarnessConnection caller = HarnessConnection.connect(router, newComponent());
        callee.send(hello(b));
        // The ring acknowledged the location: the handler's continuation is queued on the callee's loop, not run.
        Await.until("the location write to complete", () -> callee.channel().hasQueuedTasks());
        assertTrue(location(b).isPresent());
        assertNull(callee.channel().readOutbound(), "nothing written to the callee yet");

        caller.send(call(11, component(b), "ping", "early", 5_000));
        callee.runTasks();
        Frame first = callee.next();
        assertTrue(first.hasWelcome(), "the Welcome comes first, got " + first);
        Frame second = callee.next();
        assertTrue(second.hasCall(), "then the call, got " + second);
        assertEquals("early", second.getCall().getInputs().toStringUtf8());

        callee.send(reply(second.getCorrelation(), "late but fine"));
        Frame answer = caller.next();
        assertEquals(11, answer.getCorrelation());
        assertEquals("late but fine", answer.getReply().getResults(0).getOutputs().toStringUtf8());
        callee.close();
        caller.close();
    }
}
