package io.smalti.hub.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.smalti.hub.router.Router;
import io.smalti.hub.testing.Frames;
import io.smalti.protocol.hub.Frame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One harness's connection to a hub, without the network: {@link HubEndpoint}'s pipeline minus TLS
 * (length framing, {@link FrameEncoder}, {@link HarnessHandler}, the queue limits of the router's
 * settings) on a {@link LoopChannel}. The test writes frames as the harness would and reads what the hub
 * wrote back, decoded from the bytes. Note: the decoder's limit is copied from HubEndpoint as it is.
 */
public final class HarnessConnection implements AutoCloseable {
    /** How long to wait for a frame that should come. */
    public static final Duration WAIT = Duration.ofSeconds(10);

    private final LoopChannel channel = new LoopChannel();

    public HarnessConnection(Router router) {
        // As HubEndpoint configures its connections: the bounded queue to each harness.
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(router.settings().queueLowWater(),
                router.settings().queueHighWater()));
        channel.pipeline()
                .addLast("frames", HubEndpoint.frameDecoder(router.settings().maxFrame()))
                .addLast("encoder", FrameEncoder.INSTANCE)
                .addLast("harness", new HarnessHandler(router, TestCredentials.TRUSTING, router.settings().helloTimeout()));
    }

    /** Connects as {@code component} and checks the first frame back is its Welcome. */
    public static HarnessConnection connect(Router router, String component) {
        HarnessConnection c = new HarnessConnection(router);
        c.send(Frames.hello(component));
        Frame welcome = c.next();
        assertTrue(welcome.hasWelcome(), "expected a Welcome, got " + welcome);
        assertEquals(component, welcome.getWelcome().getComponent());
        return c;
    }

    public LoopChannel channel() {
        return channel;
    }

    /** Writes one frame, length-prefixed, as the harness would. */
    public void send(Frame frame) {
        byte[] bytes = frame.toByteArray();
        sendRaw(Unpooled.buffer(4 + bytes.length).writeInt(bytes.length).writeBytes(bytes));
    }

    /**
     * Writes bytes as they are (a length prefix is the caller's business). The hub reads them at once;
     * what it hands to other threads comes back to this connection only when the test reads or runs tasks.
     */
    public void sendRaw(ByteBuf bytes) {
        channel.writeInbound(bytes);
    }

    /** Runs what other threads queued for this connection. */
    public void runTasks() {
        channel.runAll();
    }

    /** The next frame the hub writes to this connection; fails after {@link #WAIT}. */
    public Frame next() {
        return next(WAIT);
    }

    public Frame next(Duration wait) {
        Frame f = poll(wait);
        if (f == null) {
            fail("no frame within " + wait.toMillis() + " ms");
        }
        return f;
    }

    /** The next {@code n} frames, in the order written. */
    public List<Frame> next(int n) {
        List<Frame> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Frame f = poll(WAIT);
            if (f == null) {
                fail("only " + out.size() + " of " + n + " frames within " + WAIT.toMillis() + " ms: " + out);
            }
            out.add(f);
        }
        return out;
    }

    /** Fails if the hub writes a frame within {@code wait}. */
    public void expectNothing(Duration wait) {
        Frame f = poll(wait);
        if (f != null) {
            fail("expected no frame, got " + f);
        }
    }

    /** The next frame written within {@code wait}, or null. */
    private Frame poll(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            channel.runAll();
            ByteBuf buf;
            while ((buf = channel.readOutbound()) != null) {
                try {
                    if (buf.readableBytes() == 0) {
                        continue; // the empty write before a close
                    }
                    int length = buf.readInt();
                    assertEquals(length, buf.readableBytes(), "length prefix of one frame");
                    byte[] bytes = new byte[length];
                    buf.readBytes(bytes);
                    return Frame.parseFrom(bytes);
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError("the hub wrote bytes that are not a Frame", e);
                } finally {
                    buf.release();
                }
            }
            if (System.nanoTime() - deadline > 0) {
                return null;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Whether the hub still keeps the connection open (after running what is queued). */
    public boolean isOpen() {
        channel.runAll();
        return channel.isOpen();
    }

    /** The harness goes away: the connection closes. */
    @Override
    public void close() {
        channel.close();
        channel.runAll();
        channel.releaseOutbound();
    }
}
