package io.smalti.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Cast;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import io.smalti.protocol.hub.Membership;
import io.smalti.protocol.hub.Monitor;
import io.smalti.protocol.hub.Register;
import io.smalti.protocol.hub.Subject;
import io.smalti.protocol.hub.Target;
import io.smalti.protocol.hub.Terminate;
import io.smalti.protocol.hub.Unregister;
import io.smalti.protocol.hub.Welcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The local-channel handler and the relay, on embedded channels (no sockets, no threads). */
class RelayTest {
    private static final String ID = "0123456789abcdef0123456789abcdef01234567";
    private static final int MAX_FRAME = 4096;

    private final List<String> terminations = new ArrayList<>();
    private Relay relay;
    private EmbeddedChannel local;

    @BeforeEach
    void setUp() {
        relay = new Relay(ID, MAX_FRAME, 5000, (reason, grace, told) -> terminations.add(reason + "/" + grace + "/" + told));
        local = new EmbeddedChannel();
        LocalChannelHandler.install(local.pipeline(), MAX_FRAME, relay);
    }

    private static ByteBuf bytes(Frame frame) {
        byte[] b = frame.toByteArray();
        return Unpooled.buffer().writeInt(b.length).writeBytes(b);
    }

    private static Frame decode(Object outbound) throws Exception {
        ByteBuf buf = (ByteBuf) outbound;
        try {
            return Frames.decode(buf);
        } finally {
            buf.release();
        }
    }

    private static Frame hello(int version) {
        return Frame.newBuilder().setCorrelation(1).setHello(Hello.newBuilder().setVersion(version)).build();
    }

    private EmbeddedChannel connectHub() {
        EmbeddedChannel hub = new EmbeddedChannel();
        relay.hubConnected(hub, Welcome.newBuilder().setVersion(1).setNode("n1").setMaxFrame(2048).build());
        return hub;
    }

    private void welcome() throws Exception {
        local.writeInbound(bytes(hello(1)));
        Frame welcome = decode(local.readOutbound());
        assertEquals(ID, welcome.getWelcome().getComponent());
    }

    @Test
    void helloIsAnsweredWithWelcome() throws Exception {
        connectHub();
        local.writeInbound(bytes(hello(1)));
        Frame welcome = decode(local.readOutbound());
        assertEquals(1, welcome.getCorrelation());
        assertEquals("n1", welcome.getWelcome().getNode());
        assertEquals(2048, welcome.getWelcome().getMaxFrame(), "the smaller of the harness's and the hub's limit");
        assertTrue(local.isActive());
    }

    @Test
    void frameBeforeHelloIsRefusedAndClosed() throws Exception {
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(3).setRegister(Register.newBuilder().addGroups("g")).build()));
        Frame error = decode(local.readOutbound());
        assertEquals(Error.Code.BAD_REQUEST, error.getError().getCode());
        assertTrue(error.getError().getMessage().contains("expected Hello"), error.getError().getMessage());
        assertEquals(3, error.getCorrelation());
        assertFalse(local.isActive());
    }

    @Test
    void wrongVersionIsRefusedAndClosed() throws Exception {
        local.writeInbound(bytes(hello(2)));
        Frame error = decode(local.readOutbound());
        assertEquals(Error.Code.UNSUPPORTED_VERSION, error.getError().getCode());
        assertFalse(local.isActive());
    }

    @Test
    void oversizedFrameIsRefusedAndClosed() throws Exception {
        welcome();
        local.writeInbound(Unpooled.buffer().writeInt(MAX_FRAME + 1).writeBytes(new byte[100]));
        Frame error = decode(local.readOutbound());
        assertEquals(Error.Code.TOO_LARGE, error.getError().getCode());
        assertFalse(local.isActive());
    }

    @Test
    void malformedFrameIsRefusedAndTheConnectionKeepsServing() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        // Field 3, wire type 2, length 50: longer than the frame.
        local.writeInbound(Unpooled.buffer().writeInt(3).writeBytes(new byte[] {0x1a, 50, 1}));
        Frame error = decode(local.readOutbound());
        assertEquals(Error.Code.BAD_REQUEST, error.getError().getCode());
        assertTrue(error.getError().getMessage().startsWith("malformed frame"), error.getError().getMessage());
        assertTrue(local.isActive());
        Frame cast = Frame.newBuilder().setCast(Cast.newBuilder().setOperation("x")).build();
        local.writeInbound(bytes(cast));
        assertEquals(cast, decode(hub.readOutbound()));
    }

    @Test
    void framesAreRelayedUnchangedBothWays() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        Frame call = Frame.newBuilder().setCorrelation(9).setTimeoutMs(100)
                .setCall(Call.newBuilder().setTarget(Target.newBuilder().setGroup("g")).setOperation("op")).build();
        ByteBuf sent = bytes(call);
        ByteBuf copy = sent.copy();
        local.writeInbound(sent);
        ByteBuf relayed = hub.readOutbound();
        assertEquals(copy, relayed, "the original bytes, length prefix included");
        relayed.release();

        Frame answer = Frame.newBuilder().setCorrelation(9).setMembership(Membership.getDefaultInstance()).build();
        relay.fromHub(bytes(answer), scanned(bytes(answer)));
        relay.flushLocal();
        assertEquals(answer, decode(local.readOutbound()));
    }

    private static FrameHeader scanned(ByteBuf frame) {
        FrameHeader h = new FrameHeader();
        assertTrue(h.scan(frame));
        frame.release();
        return h;
    }

    @Test
    void requestsWithoutAHubAreAnsweredUnavailableAndCastsDropped() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        hub.close();
        relay.hubLost(hub);
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(4).setRegister(Register.newBuilder().addGroups("g")).build()));
        Frame error = decode(local.readOutbound());
        assertEquals(4, error.getCorrelation());
        assertEquals(Error.Code.UNAVAILABLE, error.getError().getCode());
        assertEquals("hub connection lost; reconnecting", error.getError().getMessage());
        local.writeInbound(bytes(Frame.newBuilder().setCast(Cast.newBuilder().setOperation("x")).build()));
        assertNull(local.readOutbound());
    }

    @Test
    void aFullHubQueueStopsReadingFromTheComponentUntilItDrains() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        hub.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        hub.write(Unpooled.wrappedBuffer(new byte[64])); // unflushed: the channel is now not writable
        assertFalse(hub.isWritable());
        Frame call = Frame.newBuilder().setCorrelation(8).setCall(Call.newBuilder().setOperation("x")).build();
        local.writeInbound(bytes(call));
        assertNull(local.readOutbound(), "nothing refused: the call waits in the queue to the hub");
        assertFalse(local.config().isAutoRead(), "no more reading from the component while the hub queue is full");

        hub.flush(); // the queue drains
        relay.hubWritable(hub);
        assertTrue(local.config().isAutoRead(), "reading again once the hub can take frames");
        ((ByteBuf) hub.readOutbound()).release();
        assertEquals(call, decode(hub.readOutbound()), "the call was passed on, not lost");
    }

    @Test
    void aHubQueueOverTheHardLimitRefusesRequestsWithOverloaded() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        hub.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        hub.write(Unpooled.wrappedBuffer(new byte[(int) Relay.HARD_LIMIT + 64])); // unflushed, over the hard limit
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(8).setCall(Call.newBuilder().setOperation("x")).build()));
        Frame error = decode(local.readOutbound());
        assertEquals(Error.Code.OVERLOADED, error.getError().getCode());
        assertTrue(error.getError().getMessage().contains("queue to the hub"), error.getError().getMessage());
        local.writeInbound(bytes(Frame.newBuilder().setCast(Cast.newBuilder().setOperation("x")).build()));
        assertNull(local.readOutbound(), "a cast is dropped silently");
    }

    @Test
    void aFullComponentQueueStopsReadingFromTheHub() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        local.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        local.write(Unpooled.wrappedBuffer(new byte[64]));
        Frame cast = Frame.newBuilder().setCast(Cast.newBuilder().setOperation("x")).build();
        relay.fromHub(bytes(cast), scanned(bytes(cast)));
        assertFalse(hub.config().isAutoRead(), "no more reading from the hub while the component's queue is full");
        local.flush();
        relay.localWritable(local);
        assertTrue(hub.config().isAutoRead());
        ((ByteBuf) local.readOutbound()).release();
        assertEquals(cast, decode(local.readOutbound()), "the cast was passed on, not lost");
    }

    @Test
    void standingRequestsAreReplayedOnANewHubSession() throws Exception {
        EmbeddedChannel hub = connectHub();
        welcome();
        Subject subject = Subject.newBuilder().setGroup("watched").build();
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(1).setRegister(Register.newBuilder().addGroups("a").addGroups("b")).build()));
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(2).setUnregister(Unregister.newBuilder().addGroups("a")).build()));
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(3).setMonitor(Monitor.newBuilder().setSubject(subject)).build()));
        hub.close();
        relay.hubLost(hub);

        EmbeddedChannel second = connectHub();
        Frame register = decode(second.readOutbound());
        assertEquals(List.of("b"), register.getRegister().getGroupsList());
        assertTrue((register.getCorrelation() & Relay.REPLAY_BIT) != 0);
        Frame monitor = decode(second.readOutbound());
        assertEquals(subject, monitor.getMonitor().getSubject());
        assertNull(second.readOutbound());

        // The hub's answers to replays are consumed, not relayed to the component.
        Frame answer = Frame.newBuilder().setCorrelation(register.getCorrelation()).setMembership(Membership.getDefaultInstance()).build();
        relay.fromHub(bytes(answer), scanned(bytes(answer)));
        relay.flushLocal();
        assertNull(local.readOutbound());
    }

    @Test
    void declaredGroupsAreJoinedOnTheFirstSessionAndEveryLaterOne() throws Exception {
        relay = new Relay(ID, MAX_FRAME, 5000, (reason, grace, told) -> { }, List.of("echo", "blue"));
        local = new EmbeddedChannel();
        LocalChannelHandler.install(local.pipeline(), MAX_FRAME, relay);
        EmbeddedChannel first = connectHub();
        Frame register = decode(first.readOutbound());
        assertEquals(List.of("echo", "blue"), register.getRegister().getGroupsList());
        assertTrue((register.getCorrelation() & Relay.REPLAY_BIT) != 0, "the harness's own request");
        assertNull(first.readOutbound());
        first.close();
        relay.hubLost(first);
        EmbeddedChannel second = connectHub();
        assertEquals(List.of("echo", "blue"), decode(second.readOutbound()).getRegister().getGroupsList());
    }

    private void answer(Frame frame) {
        relay.fromHub(bytes(frame), scanned(bytes(frame)));
        relay.flushLocal();
    }

    private static Frame refused(long correlation, Error.Code code) {
        return Frame.newBuilder().setCorrelation(correlation)
                .setError(Error.newBuilder().setCode(code).setMessage("the ring could not answer")).build();
    }

    @Test
    void aJoinTheHubCouldNotMakeYetIsSentAgainUntilItIsMade() throws Exception {
        relay = new Relay(ID, MAX_FRAME, 5000, (reason, grace, told) -> { }, List.of("echo", "blue"));
        local = new EmbeddedChannel();
        LocalChannelHandler.install(local.pipeline(), MAX_FRAME, relay);
        EmbeddedChannel hub = new EmbeddedChannel();
        hub.freezeTime();
        relay.hubConnected(hub, Welcome.newBuilder().setVersion(1).setNode("n1").setMaxFrame(2048).build());
        Frame first = decode(hub.readOutbound());
        // Right after a restart the group's vnode may not take writes yet: the hub answers UNAVAILABLE.
        answer(refused(first.getCorrelation(), Error.Code.UNAVAILABLE));
        hub.advanceTimeBy(Relay.REPLAY_RETRY_FIRST_MILLIS - 1, java.util.concurrent.TimeUnit.MILLISECONDS);
        hub.runScheduledPendingTasks();
        assertNull(hub.readOutbound(), "not before the back-off");
        hub.advanceTimeBy(1, java.util.concurrent.TimeUnit.MILLISECONDS);
        hub.runScheduledPendingTasks();
        Frame second = decode(hub.readOutbound());
        assertEquals(List.of("echo", "blue"), second.getRegister().getGroupsList());
        assertTrue((second.getCorrelation() & Relay.REPLAY_BIT) != 0 && second.getCorrelation() != first.getCorrelation());

        // Meanwhile the component left one of the groups: only the other is asked for again, after twice the wait.
        welcome();
        local.writeInbound(bytes(Frame.newBuilder().setCorrelation(4).setUnregister(Unregister.newBuilder().addGroups("blue")).build()));
        relay.flushHub();
        assertTrue(decode(hub.readOutbound()).hasUnregister());
        answer(refused(second.getCorrelation(), Error.Code.EXPIRED));
        hub.advanceTimeBy(2 * Relay.REPLAY_RETRY_FIRST_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        hub.runScheduledPendingTasks();
        Frame third = decode(hub.readOutbound());
        assertEquals(List.of("echo"), third.getRegister().getGroupsList());

        answer(Frame.newBuilder().setCorrelation(third.getCorrelation()).setMembership(Membership.getDefaultInstance()).build());
        hub.advanceTimeBy(60, java.util.concurrent.TimeUnit.SECONDS);
        hub.runScheduledPendingTasks();
        assertNull(hub.readOutbound(), "made: not sent again");
        assertNull(local.readOutbound(), "the harness's own requests and their answers never reach the component");
    }

    @Test
    void aReplayRefusedForGoodOrFromAnEndedSessionIsNotSentAgain() throws Exception {
        relay = new Relay(ID, MAX_FRAME, 5000, (reason, grace, told) -> { }, List.of("echo"));
        EmbeddedChannel hub = new EmbeddedChannel();
        hub.freezeTime();
        relay.hubConnected(hub, Welcome.newBuilder().setVersion(1).setNode("n1").setMaxFrame(2048).build());
        answer(refused(decode(hub.readOutbound()).getCorrelation(), Error.Code.BAD_REQUEST));
        hub.advanceTimeBy(60, java.util.concurrent.TimeUnit.SECONDS);
        hub.runScheduledPendingTasks();
        assertNull(hub.readOutbound(), "a refusal that retrying cannot fix");

        EmbeddedChannel next = new EmbeddedChannel();
        next.freezeTime();
        relay.hubConnected(next, Welcome.newBuilder().setVersion(1).setNode("n1").setMaxFrame(2048).build());
        answer(refused(decode(next.readOutbound()).getCorrelation(), Error.Code.UNAVAILABLE));
        next.close();
        relay.hubLost(next);
        next.advanceTimeBy(60, java.util.concurrent.TimeUnit.SECONDS);
        next.runScheduledPendingTasks();
        assertNull(next.readOutbound(), "the next session replays everything itself");
    }

    @Test
    void terminateIsForwardedAndSupervised() throws Exception {
        connectHub();
        welcome();
        Frame terminate = Frame.newBuilder().setTerminate(Terminate.newBuilder().setReason("linked").setGraceMs(700)).build();
        relay.fromHub(bytes(terminate), scanned(bytes(terminate)));
        assertEquals(terminate, decode(local.readOutbound()));
        assertEquals(List.of("linked/700/true"), terminations);
    }

    @Test
    void callsForAnAbsentComponentAreAnsweredToTheHub() throws Exception {
        EmbeddedChannel hub = connectHub();
        Frame call = Frame.newBuilder().setCorrelation(77).setCall(Call.newBuilder().setOperation("x")).build();
        relay.fromHub(bytes(call), scanned(bytes(call)));
        hub.flush();
        Frame error = decode(hub.readOutbound());
        assertEquals(77, error.getCorrelation());
        assertEquals(Error.Code.UNAVAILABLE, error.getError().getCode());
    }

    @Test
    void headerScanFindsCorrelationTimeoutAndBody() {
        FrameHeader h = new FrameHeader();
        ByteBuf b = bytes(Frame.newBuilder().setCorrelation(Long.MAX_VALUE).setTimeoutMs(1234)
                .setSelect(io.smalti.protocol.hub.Select.newBuilder().setGroup("g")).build());
        assertTrue(h.scan(b));
        assertEquals(Long.MAX_VALUE, h.correlation);
        assertEquals(1234, h.timeoutMs);
        assertEquals(Frame.BodyCase.SELECT, h.bodyCase());
        assertTrue(h.isRequest());
        b.release();
    }
}
