package io.smalti.hub.endpoint;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.PlatformDependent;
import io.smalti.hub.router.HarnessLink;
import io.smalti.protocol.hub.Frame;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link HarnessLink} over a Netty channel. Frames sent on the channel's event loop are written at once;
 * frames from other threads are handed over through a queue that the event loop drains, and every turn
 * ends with one flush, so a burst costs one system call.
 *
 * <p>The bounded per-connection queue: past the channel's write-buffer high-water mark the link is
 * congested, and a sender reading on a hub event loop (a harness on this node) is told so through
 * {@link #takeCongested()}, so that its connection stops reading until this one drains ({@link
 * #whenWritable}); past {@link #HARD_LIMIT_MARKS} times the mark frames are refused. Thread-safe.
 */
final class ChannelLink implements HarnessLink {
    /** Bytes queued to one connection beyond which frames to it are refused, in high-water marks. */
    static final int HARD_LIMIT_MARKS = 4;
    /** The congested link the current event-loop thread last sent to, until its read handler takes it. */
    private static final FastThreadLocal<ChannelLink> CONGESTED = new FastThreadLocal<>();

    private final Channel channel;
    private final long highWater;
    private final long hardLimit;
    private final Queue<Runnable> whenWritable = new ConcurrentLinkedQueue<>();
    private final Queue<Frame> handedOver = PlatformDependent.newMpscQueue();
    private final AtomicLong handedOverBytes = new AtomicLong();
    /** True while a drain is queued on the event loop and has not yet started taking frames. */
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;

    ChannelLink(Channel channel) {
        this.channel = channel;
        this.highWater = channel.config().getWriteBufferHighWaterMark();
        this.hardLimit = HARD_LIMIT_MARKS * highWater;
    }

    @Override
    public boolean send(Frame frame) {
        if (!channel.isActive()) {
            return false;
        }
        if (congested()) {
            if (channel.bytesBeforeWritable() + handedOverBytes.get() > hardLimit) {
                return false;
            }
            if (Thread.currentThread() instanceof FastThreadLocalThread) {
                CONGESTED.set(this);
            }
        }
        if (channel.eventLoop().inEventLoop()) {
            channel.write(frame, channel.voidPromise());
        } else {
            int size = frame.getSerializedSize();
            if (handedOverBytes.addAndGet(size) > hardLimit) {
                handedOverBytes.addAndGet(-size);
                return false;
            }
            handedOver.offer(frame);
        }
        // A sender that finds a drain already scheduled has queued (or written) its frame before that drain
        // clears the flag and takes frames, so the drain writes and flushes it.
        if (drainScheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(drain);
        }
        return true;
    }

    private void drain() {
        drainScheduled.set(false);
        Frame f;
        while ((f = handedOver.poll()) != null) {
            handedOverBytes.addAndGet(-f.getSerializedSize());
            channel.write(f, channel.voidPromise());
        }
        channel.flush();
        if (!whenWritable.isEmpty() && !congested()) {
            writable();
        }
    }

    /**
     * The link this event-loop thread found congested since the last call, if any (then cleared). A read
     * handler calls it after a read batch to decide whether to stop reading.
     */
    static ChannelLink takeCongested() {
        ChannelLink c = CONGESTED.getIfExists();
        if (c != null) {
            CONGESTED.remove();
        }
        return c;
    }

    /** Over the high-water mark, counting what other threads are still handing over. */
    boolean congested() {
        return !channel.isWritable() || handedOverBytes.get() > highWater;
    }

    boolean isActive() {
        return channel.isActive();
    }

    /** Bytes waiting to reach the socket (above the low-water mark) or to be handed over: falls as the receiver reads. */
    long backlog() {
        return channel.bytesBeforeWritable() + handedOverBytes.get();
    }

    /** Runs {@code task} (on any thread) once the link is no longer congested, or has closed. */
    void whenWritable(Runnable task) {
        whenWritable.add(task);
        if (!congested() || !channel.isActive()) {
            writable();
        }
    }

    /** The link drained below its marks or closed: runs what waited for it. */
    void writable() {
        Runnable r;
        while ((r = whenWritable.poll()) != null) {
            r.run();
        }
    }

    @Override
    public void abort() {
        channel.close();
    }

    @Override
    public void close() {
        channel.eventLoop().execute(() -> {
            drain();
            // Closes once everything written so far has reached the socket.
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        });
    }

    @Override
    public String describe() {
        return String.valueOf(channel.remoteAddress());
    }
}
