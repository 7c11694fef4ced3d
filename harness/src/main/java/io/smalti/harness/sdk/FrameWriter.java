package io.smalti.harness.sdk;

import com.google.protobuf.CodedOutputStream;
import io.smalti.protocol.hub.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Writes frames to the local channel (in non-blocking mode). When nothing is queued and the writer thread
 * is idle, a sender writes its frame itself, on its own thread: a single call or answer then costs no
 * thread wake-up. Otherwise, and for whatever the socket did not take at once, senders enqueue and the
 * writer thread drains the queue, encoding as many frames as fit into one reused direct buffer per
 * system call, which is what makes hundreds of thousands of small frames per second possible; it waits
 * for the socket when it is full. A sender never blocks. The queue is bounded: {@link #offer} refuses
 * rather than letting memory grow without limit. Thread-safe.
 */
final class FrameWriter implements Runnable {
    private static final int BUFFER_SIZE = 256 * 1024;

    private final SocketChannel channel;
    private final int capacity;
    private final Consumer<IOException> onFailure;
    private final ConcurrentLinkedQueue<Frame> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** Encoded bytes not yet written, from index 0 to the position (write mode). Guarded by {@link #lock}. */
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
    private final ReentrantLock lock = new ReentrantLock();
    private final Selector writable;
    private final SelectionKey key;
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean stopping;

    /** {@code channel} must be in non-blocking mode. */
    FrameWriter(SocketChannel channel, int capacity, String name, Consumer<IOException> onFailure) throws IOException {
        this.channel = channel;
        this.capacity = capacity;
        this.onFailure = onFailure;
        this.writable = Selector.open();
        this.key = channel.register(writable, 0);
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Sends {@code frame} now or queues it; false when the queue is full or the writer stopped (nothing sent). */
    boolean offer(Frame frame) {
        if (stopping) {
            return false;
        }
        if (sleeping && queued.get() == 0 && lock.tryLock()) {
            IOException failed = null;
            try {
                // Nothing queued and nothing left over: writing here keeps the order.
                if (queued.get() == 0 && buffer.position() == 0 && 4 + frame.getSerializedSize() <= buffer.capacity()) {
                    encode(frame);
                    buffer.flip();
                    channel.write(buffer);
                    buffer.compact();
                    if (buffer.position() > 0) {
                        LockSupport.unpark(thread); // the socket was full: the writer finishes when it can
                    }
                    return true;
                }
            } catch (IOException e) {
                stopping = true;
                failed = e;
            } finally {
                lock.unlock();
            }
            if (failed != null) {
                onFailure.accept(failed); // outside the lock: it stops the writer, which may be waiting for it
                return false;
            }
        }
        if (queued.incrementAndGet() > capacity) {
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
        writable.wakeup();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!thread.isAlive()) {
            try {
                writable.close();
            } catch (IOException e) {
                // Closing anyway.
            }
        }
    }

    @Override
    public void run() {
        try {
            while (true) {
                lock.lock();
                try {
                    Frame frame;
                    while ((frame = queue.poll()) != null) {
                        queued.decrementAndGet();
                        encode(frame);
                    }
                    flush();
                } finally {
                    lock.unlock();
                }
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
                // found here, one that enqueues after will unpark us (or write itself).
                if (queue.isEmpty() && !stopping) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
                }
                sleeping = false;
            }
        } catch (IOException e) {
            stopping = true;
            onFailure.accept(e);
        }
    }

    /** Appends {@code frame} to the buffer, writing the buffer out first if it would not fit. Under the lock. */
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

    /** Writes the whole buffer, waiting for the socket as needed. Under the lock, on the writer thread. */
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
            if (channel.write(b) == 0) {
                if (stopping && !channel.isOpen()) {
                    throw new IOException("the local channel closed");
                }
                key.interestOps(SelectionKey.OP_WRITE);
                writable.select(100);
                writable.selectedKeys().clear();
                key.interestOps(0);
            }
        }
    }
}
