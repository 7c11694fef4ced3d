package io.smalti.examples;

import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentConnection;
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
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** The harness end of a local channel for example tests: a real Unix socket, frames by hand. */
public final class LocalChannelFake implements AutoCloseable {
    public static final String ID = "fedcba9876543210fedcba9876543210fedcba98";

    private final ServerSocketChannel server;
    private final SocketChannel channel;
    private final DataInputStream in;
    private final java.util.concurrent.BlockingQueue<Frame> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    public final ComponentConnection connection;

    /** Starts {@code component} on a fresh socket in {@code dir} and completes the handshake. */
    public LocalChannelFake(Path dir, Component component) throws Exception {
        Path socket = dir.resolve("fake.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        CompletableFuture<ComponentConnection> opened = CompletableFuture.supplyAsync(() -> {
            try {
                return ComponentConnection.open(socket, component);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        channel = server.accept();
        in = new DataInputStream(Channels.newInputStream(channel));
        readDirect(); // Hello
        // A thread reads from here on, so waits can time out (available() is always 0 on a socket stream).
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
        write(Frame.newBuilder().setWelcome(Welcome.newBuilder().setVersion(1).setComponent(ID).setNode("n1")
                .setMaxFrame(1 << 20)).build());
        // initialize() runs inside open(): answer its requests until open returns.
        while (!opened.isDone()) {
            Frame request = frames.poll(10, TimeUnit.MILLISECONDS);
            if (request != null) {
                answerSetup(request);
            }
        }
        connection = opened.get(5, TimeUnit.SECONDS);
    }

    /** Answers a set-up request the way a hub would (Membership or Ok). */
    private void answerSetup(Frame request) throws IOException {
        Frame.Builder answer = Frame.newBuilder().setCorrelation(request.getCorrelation());
        switch (request.getBodyCase()) {
            case REGISTER -> answer.setMembership(io.smalti.protocol.hub.Membership.getDefaultInstance());
            case MONITOR -> answer.setOk(io.smalti.protocol.hub.Ok.getDefaultInstance());
            default -> throw new AssertionError("unexpected request during initialize: " + request);
        }
        write(answer.build());
    }

    public Frame read() throws IOException, InterruptedException {
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

    /** The next frame matching {@code wanted}, skipping others (e.g. timer-driven requests). */
    public Frame next(Predicate<Frame> wanted) throws IOException, InterruptedException {
        while (true) {
            Frame f = read();
            if (wanted.test(f)) {
                return f;
            }
        }
    }

    public synchronized void write(Frame frame) throws IOException {
        byte[] bytes = frame.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        connection.close();
        channel.close();
        server.close();
    }
}
