package io.smalti.harness.sdk;

import com.google.protobuf.CodedOutputStream;
import io.smalti.protocol.hub.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The one thread that writes to the local channel. Senders on any thread enqueue frames; the writer drains
 * the queue, encodes as many frames as fit into one reused direct buffer and writes them with one system
 * call, which is what makes hundreds of thousands of small frames per second possible. The queue is bounded:
 * {@link #offer} refuses rather than letting memory grow without limit. Thread-safe.
 */
final class FrameWriter implements Runnable {
    private static final int BUFFER_SIZE = 256 * 1024;

    private final SocketChannel channel;
    private final int capacity;
    private final Consumer<IOException> onFailure;
    private final ConcurrentLinkedQueue<Frame> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean stopping;

    FrameWriter(SocketChannel channel, int capacity, String name, Consumer<IOException> onFailure) {
        this.channel = channel;
        this.capacity = capacity;
        this.onFailure = onFailure;
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Queues {@code frame}; false when the queue is full or the writer stopped (nothing will be sent). */
    boolean offer(Frame frame) {
        if (stopping || queued.incrementAndGet() > capacity) {
            queued.decrementAndGet();
            return false;
        }
        queue.offer(frame);
        // Only wake the writer when it is parked: unpark is a system call, and a busy writer finds the frame
        // on its own.
        if (sleeping) {
            LockSupport.unpark(thread);
        }
        return true;
    }

    /** Writes what is queued (waiting up to {@code millis}), then stops the writer. */
    void stop(long millis) {
        stopping = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            try {
                thread.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void run() {
        try {
            while (true) {
                Frame frame = queue.poll();
                if (frame == null) {
                    flush();
                    if (stopping && queue.isEmpty()) {
                        return;
                    }
                    // Yield a few times before parking: a busy sender refills the queue within microseconds,
                    // and a parked writer costs every sender a wake-up system call.
                    for (int i = 0; i < 20 && queue.isEmpty(); i++) {
                        Thread.yield();
                    }
                    if (!queue.isEmpty()) {
                        continue;
                    }
                    sleeping = true;
                    // Re-check after announcing the sleep: a sender that enqueued before seeing the flag is
                    // found here, one that enqueues after will unpark us.
                    if (queue.isEmpty() && !stopping) {
                        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
                    }
                    sleeping = false;
                    continue;
                }
                queued.decrementAndGet();
                encode(frame);
            }
        } catch (IOException e) {
            stopping = true;
            onFailure.accept(e);
        }
    }

    private void encode(Frame frame) throws IOException {
        int size = frame.getSerializedSize();
        if (4 + size > buffer.remaining()) {
            flush();
        }
        if (4 + size > buffer.capacity()) {
            // Larger than the reusable buffer (rare): encode into its own buffer.
            ByteBuffer big = ByteBuffer.allocate(4 + size);
            big.putInt(size);
            CodedOutputStream out = CodedOutputStream.newInstance(big);
            frame.writeTo(out);
            out.flush();
            big.flip();
            writeFully(big);
            return;
        }
        buffer.putInt(size);
        CodedOutputStream out = CodedOutputStream.newInstance(buffer);
        frame.writeTo(out);
        out.flush(); // moves the buffer's position past the frame
    }

    private void flush() throws IOException {
        if (buffer.position() == 0) {
            return;
        }
        buffer.flip();
        writeFully(buffer);
        buffer.clear();
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}
