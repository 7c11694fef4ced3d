package io.smalti.hub.endpoint;

import io.netty.channel.Channel;
import io.smalti.hub.router.HarnessLink;
import io.smalti.protocol.hub.Frame;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link HarnessLink} over a Netty channel. Writes from any thread are coalesced into one flush per
 * turn of the channel's event loop; a channel over its write-buffer high-water mark refuses frames
 * (the bounded per-connection queue). Thread-safe.
 */
final class ChannelLink implements HarnessLink {
    private final Channel channel;
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final Runnable flush;

    ChannelLink(Channel channel) {
        this.channel = channel;
        this.flush = () -> {
            flushScheduled.set(false);
            channel.flush();
        };
    }

    @Override
    public boolean send(Frame frame) {
        if (!channel.isActive() || !channel.isWritable()) {
            return false;
        }
        channel.write(frame, channel.voidPromise());
        if (flushScheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(flush);
        }
        return true;
    }

    @Override
    public void close() {
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> channel.close());
    }

    @Override
    public String describe() {
        return String.valueOf(channel.remoteAddress());
    }
}
