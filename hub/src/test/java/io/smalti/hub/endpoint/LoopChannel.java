package io.smalti.hub.endpoint;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.AbstractEventExecutor;
import io.netty.util.concurrent.Future;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * An {@link EmbeddedChannel} whose event loop is the thread that made it (the test's), like a real
 * channel's: what other threads do to it (the ring's completions, the router's timer) is queued as tasks
 * and runs only when the test calls {@link #runAll()}. A plain EmbeddedChannel runs every caller
 * inline, which is not safe from the actor system's threads, and would hide ordering bugs.
 */
public class LoopChannel extends EmbeddedChannel {
    private final Loop loop;

    public LoopChannel() {
        super();
        this.loop = new Loop(Thread.currentThread());
    }

    @Override
    public EventLoop eventLoop() {
        return loop == null ? super.eventLoop() : loop; // null while EmbeddedChannel's constructor registers
    }

    /** True when another thread handed this channel work that has not run yet. */
    public boolean hasQueuedTasks() {
        return !loop.tasks.isEmpty();
    }

    /** Runs the queued tasks (and whatever they queue) until none is left. On the owner's thread only. */
    public void runAll() {
        if (Thread.currentThread() != loop.owner) {
            throw new IllegalStateException("runAll() belongs to the channel's own thread");
        }
        boolean ran;
        do {
            ran = false;
            Runnable r;
            while ((r = loop.tasks.poll()) != null) {
                r.run();
                ran = true;
            }
            if (hasPendingTasks()) {
                runPendingTasks();
                ran = true;
            }
        } while (ran);
    }

    private static final class Loop extends AbstractEventExecutor implements EventLoop {
        final Thread owner;
        final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();

        Loop(Thread owner) {
            this.owner = owner;
        }

        @Override
        public EventLoopGroup parent() {
            return null;
        }

        @Override
        public EventLoop next() {
            return this;
        }

        @Override
        public boolean inEventLoop(Thread thread) {
            return thread == owner;
        }

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        @Override
        public ChannelFuture register(io.netty.channel.Channel channel) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ChannelFuture register(ChannelPromise promise) {
            throw new UnsupportedOperationException();
        }

        @Override
        @Deprecated
        public ChannelFuture register(io.netty.channel.Channel channel, ChannelPromise promise) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isShuttingDown() {
            return false;
        }

        @Override
        public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Future<?> terminationFuture() {
            throw new UnsupportedOperationException();
        }

        @Override
        @Deprecated
        public void shutdown() {}

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return false;
        }
    }
}
