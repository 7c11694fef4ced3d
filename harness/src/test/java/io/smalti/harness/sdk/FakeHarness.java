package io.smalti.harness.sdk;

import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Welcome;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The harness end of the local channel for SDK tests: a real Unix socket, frames read and written by hand. */
final class FakeHarness implements AutoCloseable {
    final Path socket;
    private final ServerSocketChannel server;
    private final CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
    private final java.util.concurrent.BlockingQueue<Frame> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    private DataInputStream in;
    private SocketChannel channel;

    FakeHarness(Path dir) throws IOException {
        socket = dir.resolve("h.sock");
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread t = new Thread(() -> {
            try {
                accepted.complete(server.accept());
            } catch (IOException e) {
                accepted.completeExceptionally(e);
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** Accepts the component, checks its Hello and answers Welcome with {@code maxFrame}. */
    Frame handshake(String id, String node, int maxFrame) throws Exception {
        channel = accepted.get(5, TimeUnit.SECONDS);
        in = new DataInputStream(Channels.newInputStream(channel));
        Frame hello = readDirect();
        // From here on a thread reads, so tests can wait with a timeout (available() is always 0 on a socket
        // channel's stream).
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    frames.add(readDirect());
                }
            } catch (IOException e) {
                // closed
            }
        });
        reader.setDaemon(true);
        reader.start();
        write(Frame.newBuilder().setWelcome(Welcome.newBuilder().setVersion(1).setComponent(id).setNode(node)
                .setMaxFrame(maxFrame)).build());
        return hello;
    }

    Frame read() throws IOException, InterruptedException {
        Frame f = frames.poll(10, TimeUnit.SECONDS);
        if (f == null) {
            throw new AssertionError("no frame from the component within 10 s");
        }
        return f;
    }

    private Frame readDirect() throws IOException {
        int length = in.readInt();
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return Frame.parseFrom(bytes);
    }

    void write(Frame frame) throws IOException {
        byte[] bytes = frame.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
        synchronized (this) {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }
    }

    /** Whether a frame arrives within {@code millis} (polls the stream). */
    boolean quietFor(long millis) throws InterruptedException {
        return frames.poll(millis, TimeUnit.MILLISECONDS) == null;
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
        server.close();
        Files.deleteIfExists(socket);
    }
}
