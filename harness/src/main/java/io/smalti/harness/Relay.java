package io.smalti.harness;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Terminate;
import io.smalti.protocol.hub.Welcome;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heart of the harness: moves frames between the component's local connection and the hub connection,
 * unchanged (the original bytes, length prefix included). When one side cannot take more (its write buffer
 * is over the high-water mark) the relay stops reading from the other until it can: the sender is slowed
 * down by its socket instead of losing frames. Beyond a hard limit (a read batch in flight when reading
 * stopped is still passed on) and when the hub is away it answers requests with an Error instead of
 * buffering them. Records the component's standing requests and replays them on a new hub session; one
 * the hub could not carry out for now (the ring was unavailable, as right after a restart) is sent again
 * after a back-off while the session lasts.
 *
 * <p>Threading: every method runs on the one event loop both channels are registered with, so forwarding is
 * a plain {@code write} on the other channel with no hand-off between threads; nothing here blocks. Retries
 * of refused replays are scheduled on the hub channel's event loop, which is that same loop.
 */
final class Relay {
    /** Correlations of the harness's own replayed requests; the hub's answers to them are not relayed. */
    static final long REPLAY_BIT = 1L << 62;
    /** The wait before a replayed request refused for now is sent again; it doubles on each refusal. */
    static final long REPLAY_RETRY_FIRST_MILLIS = 250;
    /**
     * The longest wait between two sends of a refused replay: once the ring takes writes again, the
     * component is back in its groups within this (the target is 5 s from the instance being available).
     */
    static final long REPLAY_RETRY_MAX_MILLIS = 2000;

    /** What the relay asks of the process supervisor. */
    interface Supervisor {
        /** The hub asked the component to stop; it is killed after {@code graceMillis}. */
        void terminate(String reason, long graceMillis, boolean componentConnected);
    }

    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    /** Bytes queued to one side beyond which frames are refused even though reading has stopped. */
    static final long HARD_LIMIT = 8L << 20;

    private final String component;
    private final int maxFrame;
    private final long graceMillis;
    private final Supervisor supervisor;
    private final StandingRequests standing = new StandingRequests();
    /** Replayed requests of the current session awaiting their answer, by correlation. */
    private final Map<Long, Replay> pendingReplays = new HashMap<>();
    /** True when the harness joins groups for the component: then the first session gets them too. */
    private final boolean declared;
    private long replaySequence;

    /** A replayed request (without its correlation) and how many times the hub refused it for now. */
    private record Replay(Frame request, int refusals) {}

    private Channel hub;
    private String node = "";
    private int hubMaxFrame;
    private int hubSessions;
    private Channel local;

    Relay(String component, int maxFrame, long graceMillis, Supervisor supervisor) {
        this(component, maxFrame, graceMillis, supervisor, List.of());
    }

    /**
     * @param groups groups to join for the component from its first hub session on (declared in its bundle),
     *     kept like the groups the component joins itself
     */
    Relay(String component, int maxFrame, long graceMillis, Supervisor supervisor, List<String> groups) {
        this.component = component;
        this.maxFrame = maxFrame;
        this.graceMillis = graceMillis;
        this.supervisor = supervisor;
        if (!groups.isEmpty()) {
            standing.record(Frame.newBuilder().setRegister(io.smalti.protocol.hub.Register.newBuilder().addAllGroups(groups)).build());
        }
        this.declared = !groups.isEmpty();
    }

    // ---- hub side ------------------------------------------------------------------------------------

    /** A hub session started (Welcome received on {@code channel}); replays standing requests if any. */
    void hubConnected(Channel channel, Welcome welcome) {
        hub = channel;
        node = welcome.getNode();
        hubMaxFrame = welcome.getMaxFrame();
        hubSessions++;
        if ((hubSessions > 1 || declared) && standing.size() > 0) {
            for (Frame.Builder request : standing.replay()) {
                sendReplay(channel, new Replay(request.build(), 0));
            }
            channel.flush();
            log.info("sent {} standing request(s) to the hub (groups {})", standing.size(), standing.groups());
        }
    }

    private void sendReplay(Channel channel, Replay replay) {
        long correlation = REPLAY_BIT | ++replaySequence;
        pendingReplays.put(correlation, replay);
        channel.write(Frames.encode(channel.alloc(), replay.request().toBuilder().setCorrelation(correlation).build()),
                channel.voidPromise());
    }

    /** The hub may carry out a request it refused with these codes when asked again later. */
    private static boolean retryable(Error.Code code) {
        return code == Error.Code.UNAVAILABLE || code == Error.Code.EXPIRED || code == Error.Code.OVERLOADED;
    }

    /**
     * Sends a refused replay again on {@code session}, reduced to what the component still stands by; nothing
     * when that session has ended (the next one replays everything).
     */
    private void retry(Channel session, Replay replay) {
        if (hub != session || !session.isActive()) {
            return;
        }
        Frame request = standing.stillStanding(replay.request());
        if (request != null) {
            sendReplay(session, new Replay(request, replay.refusals()));
            session.flush();
        }
    }

    /** The hub session on {@code channel} ended. */
    void hubLost(Channel channel) {
        if (hub == channel) {
            hub = null;
            pendingReplays.clear();
            resumeReading(local); // the component's requests are now answered UNAVAILABLE, not held
        }
    }

    /** The hub connection can take frames again: read from the component again. */
    void hubWritable(Channel channel) {
        if (hub == channel && channel.isWritable()) {
            resumeReading(local);
        }
    }

    /** The local connection can take frames again: read from the hub again. */
    void localWritable(Channel channel) {
        if (local == channel && channel.isWritable()) {
            resumeReading(hub);
        }
    }

    private static void resumeReading(Channel c) {
        if (c != null && !c.config().isAutoRead()) {
            c.config().setAutoRead(true);
        }
    }

    /**
     * Writes a relayed frame to {@code to} unless {@code to} is over the hard limit; when {@code to} is over
     * its high-water mark, stops reading from {@code from} until it drains. False when refused.
     */
    private static boolean pass(ByteBuf frame, Channel to, Channel from) {
        if (!to.isWritable()) {
            if (to.bytesBeforeWritable() > HARD_LIMIT) {
                return false;
            }
            if (from != null && from.config().isAutoRead()) {
                from.config().setAutoRead(false);
            }
        }
        to.write(frame, to.voidPromise());
        return true;
    }

    boolean hubConnected() {
        return hub != null && hub.isActive();
    }

    String node() {
        return node;
    }

    /** A frame from the hub (length prefix included); the relay owns {@code frame}. */
    void fromHub(ByteBuf frame, FrameHeader header) {
        Replay replay = (header.correlation & REPLAY_BIT) != 0 ? pendingReplays.remove(header.correlation) : null;
        if (replay != null) {
            if (header.bodyCase() == Frame.BodyCase.ERROR) {
                try {
                    refused(replay, Frames.decode(frame).getError());
                } catch (InvalidProtocolBufferException e) {
                    log.warn("undecodable answer to a replayed request: {}", e.getMessage());
                }
            }
            frame.release();
            return;
        }
        if (header.bodyCase() == Frame.BodyCase.TERMINATE) {
            Terminate terminate;
            try {
                terminate = Frames.decode(frame).getTerminate();
            } catch (InvalidProtocolBufferException e) {
                frame.release();
                log.warn("undecodable Terminate from the hub: {}", e.getMessage());
                return;
            }
            long grace = terminate.getGraceMs() != 0 ? terminate.getGraceMs() : graceMillis;
            boolean connected = local != null && local.isActive();
            if (connected) {
                // Always delivered, whatever the queue: it is tiny and the component must get the chance to stop.
                local.writeAndFlush(frame, local.voidPromise());
            } else {
                frame.release();
            }
            supervisor.terminate(terminate.getReason(), grace, connected);
            return;
        }
        Channel to = local;
        if (to == null || !to.isActive()) {
            refuse(frame, header, hub, Error.Code.UNAVAILABLE, "component " + component + " is not connected to its harness");
        } else if (!pass(frame, to, hub)) {
            refuse(frame, header, hub, Error.Code.OVERLOADED, "harness queue to component " + component + " is full");
        }
    }

    private void refused(Replay replay, Error e) {
        if (!retryable(e.getCode()) || hub == null) {
            log.warn("the hub refused a replayed standing request: {} {}", e.getCode(), e.getMessage());
            return;
        }
        long delay = Math.min(REPLAY_RETRY_MAX_MILLIS, REPLAY_RETRY_FIRST_MILLIS << Math.min(replay.refusals(), 16));
        log.warn("the hub could not carry out a replayed standing request yet: {} {}; sending it again in {} ms",
                e.getCode(), e.getMessage(), delay);
        Channel session = hub;
        Replay again = new Replay(replay.request(), replay.refusals() + 1);
        session.eventLoop().schedule(() -> retry(session, again), delay, TimeUnit.MILLISECONDS);
    }

    /** Flushes what {@link #fromHub} wrote; called once per read batch. */
    void flushLocal() {
        if (local != null) {
            local.flush();
        }
    }

    // ---- component side ------------------------------------------------------------------------------

    /**
     * The component said Hello on {@code channel}; returns the Welcome to answer, or null when another
     * connection already speaks for the component.
     */
    Frame componentConnected(Channel channel) {
        if (local != null && local.isActive() && local != channel) {
            return null;
        }
        local = channel;
        int limit = hubMaxFrame > 0 ? Math.min(maxFrame, hubMaxFrame) : maxFrame;
        return Frame.newBuilder()
                .setWelcome(Welcome.newBuilder().setVersion(Frames.VERSION).setComponent(component).setNode(node)
                        .setMaxFrame(limit))
                .build();
    }

    void componentLost(Channel channel) {
        if (local == channel) {
            local = null;
            resumeReading(hub); // frames for the component are now answered UNAVAILABLE, not held
        }
    }

    /** A frame from the component after its Hello (length prefix included); the relay owns {@code frame}. */
    void fromComponent(ByteBuf frame, FrameHeader header) {
        Frame.BodyCase body = header.bodyCase();
        if (body == Frame.BodyCase.HELLO) {
            refuse(frame, header, local, Error.Code.BAD_REQUEST, "Hello was already received on this connection", true);
            return;
        }
        if (body == Frame.BodyCase.ENROLL || body == Frame.BodyCase.RENEW || body == Frame.BodyCase.ENROLLED) {
            // Certificates are between the harness and its hub: a component neither gets nor renews one.
            refuse(frame, header, local, Error.Code.FORBIDDEN, body + " is for harnesses, not components");
            return;
        }
        Channel to = hub;
        if (to == null || !to.isActive()) {
            refuse(frame, header, local, Error.Code.UNAVAILABLE, "hub connection lost; reconnecting");
            return;
        }
        if (body != null && StandingRequests.concerns(body)) {
            try {
                standing.record(Frames.decode(frame));
            } catch (InvalidProtocolBufferException e) {
                refuse(frame, header, local, Error.Code.BAD_REQUEST, "malformed " + body + " frame: " + e.getMessage(), true);
                return;
            }
        }
        if (!pass(frame, to, local)) {
            refuse(frame, header, local, Error.Code.OVERLOADED, "harness queue to the hub is full");
        }
    }

    /** Flushes what {@link #fromComponent} wrote; called once per read batch. */
    void flushHub() {
        if (hub != null) {
            hub.flush();
        }
    }

    private void refuse(ByteBuf frame, FrameHeader header, Channel answerTo, Error.Code code, String message) {
        refuse(frame, header, answerTo, code, message, false);
    }

    /** Drops {@code frame}; a request (or, when {@code always}, any frame) is answered with an Error. */
    private void refuse(ByteBuf frame, FrameHeader header, Channel answerTo, Error.Code code, String message,
            boolean always) {
        frame.release();
        if ((header.isRequest() || always) && answerTo != null && answerTo.isActive()) {
            // Flushed with the read batch by the channel's handler, like relayed frames.
            answerTo.write(Frames.encode(answerTo.alloc(), Frames.error(header.correlation, code, message)),
                    answerTo.voidPromise());
        }
    }

    /**
     * Asks the component to stop over the local channel; returns false when it is not connected (the caller
     * then signals the process instead).
     */
    boolean terminateComponent(String reason, long graceMillis) {
        if (local == null || !local.isActive()) {
            return false;
        }
        Frame frame = Frame.newBuilder()
                .setTerminate(Terminate.newBuilder().setReason(reason).setGraceMs((int) Math.min(graceMillis, Integer.MAX_VALUE)))
                .build();
        local.writeAndFlush(Frames.encode(local.alloc(), frame), local.voidPromise());
        return true;
    }

    /** Closes the local connection, if any (the component is gone or the harness is stopping). */
    void closeLocal() {
        if (local != null) {
            local.close();
        }
    }
}
