package io.smalti.credentials.service;

import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.Refusal;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials service's Unix-domain socket (mode 0600): accepts only peers running as the service's own user
 * (checked with SO_PEERCRED, not just the file mode), reads framed requests and answers each in order. Each
 * connection has a reader thread; every request runs on the one service thread, which owns the
 * {@link CredentialsService}. {@link #close} stops it and removes the socket.
 */
public final class SocketServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SocketServer.class);

    private final Path path;
    private final ServerSocketChannel server;
    private final ExecutorService owner = Executors.newSingleThreadExecutor(r -> daemon(r, "credentials-service"));
    private final String user;
    private final CredentialsService service;
    private volatile boolean closed;

    private SocketServer(Path path, ServerSocketChannel server, CredentialsService service) {
        this.path = path;
        this.server = server;
        this.service = service;
        this.user = System.getProperty("user.name");
    }

    /** Binds {@code path} (replacing a stale socket) and starts accepting. */
    public static SocketServer start(Path path, CredentialsService service) throws IOException {
        Files.createDirectories(path.getParent());
        Files.setPosixFilePermissions(path.getParent(), PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        SocketServer s = new SocketServer(path, server, service);
        daemon(s::accept, "credentials-accept").start();
        return s;
    }

    private void accept() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.error("Credentials socket {} failed: {}", path, e.toString());
                }
                return;
            }
            try {
                UnixDomainPrincipal peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (!peer.user().getName().equals(user)) {
                    LOG.warn("Refused a connection to the credentials socket from user {} (only {} may connect)",
                            peer.user().getName(), user);
                    c.close();
                    continue;
                }
            } catch (IOException | UnsupportedOperationException e) {
                LOG.warn("Refused a connection whose peer cannot be identified: {}", e.toString());
                closeQuietly(c);
                continue;
            }
            daemon(() -> serve(c), "credentials-conn").start();
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            byte[] frame;
            while ((frame = Framing.read(c)) != null) {
                CredentialsResponse answer;
                try {
                    CredentialsRequest request = CredentialsRequest.parseFrom(frame);
                    answer = owner.submit(() -> service.handle(request)).get();
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    answer = CredentialsResponse.newBuilder().setRefusal(Refusal.newBuilder()
                            .setCode(Refusal.Code.BAD_REQUEST).setMessage("malformed request: " + e.getMessage())).build();
                } catch (ExecutionException e) {
                    answer = CredentialsResponse.newBuilder().setRefusal(Refusal.newBuilder()
                            .setCode(Refusal.Code.INTERNAL).setMessage(String.valueOf(e.getCause()))).build();
                }
                Framing.write(c, answer.toByteArray());
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.info("Credentials connection ended: {}", e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        owner.shutdownNow();
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

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
