package io.smalti.credentials.service;

import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.Refusal;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.Deque;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials service's Unix-domain socket (mode 0600): accepts only peers running as the service's own user
 * (checked with SO_PEERCRED, not just the file mode), reads framed requests ({@link Framing}) and answers each in
 * order. {@link #close} stops it and removes the socket.
 *
 * <p>Threading: one thread, {@code credentials-service}, owns the listening socket, every connection and the
 * {@link CredentialsService}: it accepts, reads, answers and writes, non-blocking, on one {@link Selector}. A
 * request thus goes from the caller's write to its answer with no hand-off between threads: a reader thread per
 * connection handing each request to an owner thread and waiting for it added two wake-ups to the socket's two
 * (docs/benchmarks.md, "Credentials service": medians on a loaded 2-core machine, 8.7k to 9.8k vault HMACs a second
 * for one client, 31k to 37k for four). An answer that does not fit in the socket's buffer is written as the peer
 * reads it, while other connections are served; its connection's next request waits until then.
 */
public final class SocketServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SocketServer.class);
    /** A connection's first read buffer: most requests and answers are under 1 KiB; it grows to a frame's size. */
    private static final int INITIAL_BUFFER = 16 * 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final String user;
    private final CredentialsService service;
    private final Thread loop;
    private volatile boolean closed;

    /** A connection's state; touched by the loop thread only. */
    private static final class Connection {
        final SocketChannel channel;
        ByteBuffer in = ByteBuffer.allocate(INITIAL_BUFFER);
        final Deque<ByteBuffer> out = new ArrayDeque<>();

        Connection(SocketChannel channel) {
            this.channel = channel;
        }
    }

    private SocketServer(Path path, ServerSocketChannel server, Selector selector, CredentialsService service) {
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.service = service;
        this.user = System.getProperty("user.name");
        this.loop = new Thread(this::run, "credentials-service");
        this.loop.setDaemon(true);
    }

    /** Binds {@code path} (replacing a stale socket) and starts accepting. */
    public static SocketServer start(Path path, CredentialsService service) throws IOException {
        Files.createDirectories(path.getParent());
        Files.setPosixFilePermissions(path.getParent(), PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        server.configureBlocking(false);
        Selector selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);
        SocketServer s = new SocketServer(path, server, selector, service);
        s.loop.start();
        return s;
    }

    private void run() {
        try {
            while (!closed) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        accept();
                    } else {
                        Connection c = (Connection) key.attachment();
                        try {
                            if (key.isWritable()) {
                                flush(key, c);
                            }
                            if (key.isValid() && key.isReadable()) {
                                read(key, c);
                            }
                        } catch (IOException e) {
                            if (!closed) {
                                LOG.info("Credentials connection ended: {}", e.getMessage());
                            }
                            drop(key, c);
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.error("Credentials socket {} failed: {}", path, e.toString());
            }
        } finally {
            for (SelectionKey key : selector.keys()) {
                closeQuietly(key.channel());
            }
            closeQuietly(selector);
        }
    }

    private void accept() throws IOException {
        SocketChannel c;
        while ((c = server.accept()) != null) {
            try {
                UnixDomainPrincipal peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (!peer.user().getName().equals(user)) {
                    LOG.warn("Refused a connection to the credentials socket from user {} (only {} may connect)",
                            peer.user().getName(), user);
                    c.close();
                    continue;
                }
                c.configureBlocking(false);
                c.register(selector, SelectionKey.OP_READ, new Connection(c));
            } catch (IOException | UnsupportedOperationException e) {
                LOG.warn("Refused a connection whose peer cannot be identified: {}", e.toString());
                closeQuietly(c);
            }
        }
    }

    private void read(SelectionKey key, Connection c) throws IOException {
        if (c.channel.read(c.in) < 0) {
            drop(key, c);
            return;
        }
        answer(key, c);
    }

    /** Answers every whole request in the buffer, in order, while answers leave as fast as they are made. */
    private void answer(SelectionKey key, Connection c) throws IOException {
        while (c.out.isEmpty() && c.in.position() >= 4) {
            int n = c.in.getInt(0);
            if (n < 0 || n > Framing.MAX) {
                throw new IOException("message of " + n + " bytes (at most " + Framing.MAX + ")");
            }
            if (c.in.position() < 4 + n) {
                if (c.in.capacity() < 4 + n) {
                    c.in = ByteBuffer.allocate(4 + n).put(c.in.flip());
                }
                return;
            }
            byte[] frame = new byte[n];
            c.in.flip().position(4);
            c.in.get(frame).compact();
            if (c.in.capacity() > INITIAL_BUFFER && c.in.position() <= INITIAL_BUFFER) {
                c.in = ByteBuffer.allocate(INITIAL_BUFFER).put(c.in.flip()); // a large frame's buffer is not kept
            }
            byte[] answer = handle(frame).toByteArray();
            c.out.add(ByteBuffer.allocate(4 + answer.length).putInt(answer.length).put(answer).flip());
            flush(key, c);
        }
    }

    private CredentialsResponse handle(byte[] frame) {
        try {
            return service.handle(CredentialsRequest.parseFrom(frame));
        } catch (InvalidProtocolBufferException e) {
            return refusal(Refusal.Code.BAD_REQUEST, "malformed request: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("Credentials request failed unexpectedly", e);
            return refusal(Refusal.Code.INTERNAL, String.valueOf(e));
        }
    }

    /** Writes what the socket takes; reads again (and answers what waited) only once every answer is out. */
    private void flush(SelectionKey key, Connection c) throws IOException {
        while (!c.out.isEmpty()) {
            ByteBuffer b = c.out.peek();
            c.channel.write(b);
            if (b.hasRemaining()) {
                key.interestOps(SelectionKey.OP_WRITE);
                return;
            }
            c.out.poll();
        }
        if (key.interestOps() != SelectionKey.OP_READ) {
            key.interestOps(SelectionKey.OP_READ);
            answer(key, c);
        }
    }

    private static void drop(SelectionKey key, Connection c) {
        key.cancel();
        closeQuietly(c.channel);
    }

    private static CredentialsResponse refusal(Refusal.Code code, String message) {
        return CredentialsResponse.newBuilder().setRefusal(Refusal.newBuilder().setCode(code).setMessage(message)).build();
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            loop.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(server);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("Cannot remove {}: {}", path, e.toString());
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
