package io.smalti.hub.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Log;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The router's link to one harness connection: one flush per event-loop turn, order kept, a bounded queue, close after queued frames. */
class ChannelLinkTest {

    /** Counts flushes on their way to the socket. */
    private static final class Flushes extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }

    private static LoopChannel channel(Flushes flushes) {
        LoopChannel ch = new LoopChannel();
        ch.pipeline().addLast(flushes, FrameEncoder.INSTANCE);
        return ch;
    }

    private static Frame log(String message) {
        return Frame.newBuilder().setLog(Log.newBuilder().setMessage(message)).build();
    }

    /** The frames written to the socket so far, decoded. */
    private static List<Frame> written(LoopChannel ch) throws Exception {
        List<Frame> out = new ArrayList<>();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            try {
                if (b.readableBytes() > 0) {
                    ByteBuffer nio = b.nioBuffer();
                    assertEquals(nio.remaining() - 4, nio.getInt());
                    out.add(Frame.parseFrom(nio));
                }
            } finally {
                b.release();
            }
        }
        return out;
    }

    @Test
    void framesSentInOneTurnAreFlushedOnceInOrder() throws Exception {
        Flushes flushes = new Flushes();
        LoopChannel ch = channel(flushes);
        ChannelLink link = new ChannelLink(ch);
        assertTrue(link.send(log("1")));
        assertTrue(link.send(log("2")));
        assertTrue(link.send(log("3")));
        assertNull(ch.readOutbound(), "nothing reaches the socket before the loop's turn ends");
        ch.runAll();
        assertEquals(List.of(log("1"), log("2"), log("3")), written(ch));
        assertEquals(1, flushes.count);

        assertTrue(link.send(log("4")));
        ch.runAll();
        assertEquals(List.of(log("4")), written(ch));
        assertEquals(2, flushes.count, "a later turn flushes again");
    }

    @Test
    void twoFramesSentFromAnotherThreadBeforeTheLoopTurnsBothReachTheSocket() throws Exception {
        LoopChannel ch = channel(new Flushes());
        ChannelLink link = new ChannelLink(ch);
        // Another event loop (a caller's connection) or the ring's threads deliver two frames in a row while
        // this connection's loop is busy: both must be written and flushed when it gets to them.
        Thread other = new Thread(() -> {
            link.send(log("first"));
            link.send(log("second"));
        });
        other.start();
        other.join();
        ch.runAll();
        assertEquals(List.of(log("first"), log("second")), written(ch));
    }

    @Test
    void framesFromOtherThreadsArriveWholeAndInEachThreadsOrder() throws Exception {
        Flushes flushes = new Flushes();
        LoopChannel ch = channel(flushes);
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(64 << 20, 128 << 20));
        ChannelLink link = new ChannelLink(ch);
        int threads = 4;
        int each = 500;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String name = "t" + t;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    assertTrue(link.send(log(name + ":" + i)));
                }
            });
            th.start();
            senders.add(th);
        }
        go.countDown();
        while (senders.stream().anyMatch(Thread::isAlive)) {
            ch.runAll(); // the loop keeps turning while others send
        }
        ch.runAll();
        Map<String, Integer> next = new HashMap<>();
        List<Frame> frames = written(ch);
        for (Frame f : frames) {
            String[] parts = f.getLog().getMessage().split(":");
            int expected = next.getOrDefault(parts[0], 0);
            assertEquals(expected, Integer.parseInt(parts[1]), "order of " + parts[0]);
            next.put(parts[0], expected + 1);
        }
        assertEquals(threads * each, frames.size());
        assertTrue(flushes.count < frames.size(), "flushes are coalesced: " + flushes.count);
    }

    @Test
    void aConnectionOverItsHighWaterMarkRefusesFramesUntilItDrains() throws Exception {
        LoopChannel ch = channel(new Flushes());
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(256, 1024));
        ChannelLink link = new ChannelLink(ch);
        Frame big = Frame.newBuilder().setLog(Log.newBuilder().setMessageBytes(ByteString.copyFrom(new byte[300]))).build();
        int accepted = 0;
        while (link.send(big)) {
            accepted++;
            assertTrue(accepted * big.getSerializedSize() <= 8 * 1024, "bounded by a small multiple of the mark");
        }
        assertTrue(accepted >= 3, "at least the mark's worth was accepted, got " + accepted + " frames");
        assertFalse(link.send(log("small")), "refused while over the mark");
        ch.runAll(); // the socket takes what was queued
        assertEquals(accepted, written(ch).size());
        assertTrue(link.send(log("again")));
    }

    @Test
    void framesFromAnotherThreadAreRefusedBeyondTheLimitBeforeTheLoopTurns() throws Exception {
        LoopChannel ch = channel(new Flushes());
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(256, 1024));
        ChannelLink link = new ChannelLink(ch);
        Frame big = Frame.newBuilder().setLog(Log.newBuilder().setMessageBytes(ByteString.copyFrom(new byte[1000]))).build();
        int[] accepted = {0};
        Thread other = new Thread(() -> {
            for (int i = 0; i < 100 && link.send(big); i++) {
                accepted[0]++;
            }
        });
        other.start();
        other.join();
        assertTrue(accepted[0] >= 1 && accepted[0] * big.getSerializedSize() <= 8 * 1024,
                "bounded by a small multiple of the mark, got " + accepted[0] + " frames");
        ch.runAll();
        assertEquals(accepted[0], written(ch).size());
        assertTrue(link.send(log("again")), "accepted again once drained");
    }

    @Test
    void aClosedConnectionRefusesFrames() {
        LoopChannel ch = channel(new Flushes());
        ChannelLink link = new ChannelLink(ch);
        ch.close();
        ch.runAll();
        assertFalse(link.send(log("x")));
    }

    @Test
    void closingWritesWhatIsQueuedFirst() throws Exception {
        LoopChannel ch = channel(new Flushes());
        ChannelLink link = new ChannelLink(ch);
        link.send(log("last words"));
        link.send(log("really"));
        link.close();
        ch.runAll();
        assertFalse(ch.isOpen());
        assertEquals(List.of(log("last words"), log("really")), written(ch));
    }
}
