package io.smalti.bench.hub;

import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The outside reference: Debian's {@code nats-server} on 127.0.0.1 and a free port, a responder process
 * ({@link NatsResponder}) and the jnats client in this JVM. Calls are NATS request/reply, casts are
 * plain publishes: two hops through one intermediate process.
 */
final class NatsSystem implements MessagingSystem {

    private final String server;
    private final Path log;
    private Child natsServer;
    private Child responder;
    private Connection nc;

    /** {@code server}: the nats-server executable; {@code log}: where its own log goes. */
    NatsSystem(String server, Path log) {
        this.server = server;
        this.log = log;
    }

    /** Finds nats-server on the PATH (Debian installs it in /usr/bin), or null. */
    static String findServer() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "nats-server");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    /** Options shared by both sides: no reconnection (a lost server ends the benchmark) and blocking publishes. */
    static Options options(String url) {
        return new Options.Builder().server(url).noReconnect().connectionTimeout(Duration.ofSeconds(10))
                // A full outgoing queue makes publish wait (up to this long) instead of failing: back-pressure.
                .writeQueuePushTimeout(Duration.ofSeconds(60))
                .build();
    }

    @Override
    public String name() {
        return "nats";
    }

    @Override
    public String path() {
        return "tcp>tcp (nats-server)";
    }

    @Override
    public void start() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        natsServer = Child.exec("nats-server", List.of(server, "-a", "127.0.0.1", "-p", Integer.toString(port)), log);
        awaitPort(port);
        String url = "nats://127.0.0.1:" + port;
        responder = Child.java("nats-responder", NatsResponder.class, "256m", List.of(url));
        responder.await("READY", 60);
        nc = Nats.connect(options(url));
    }

    private void awaitPort(int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || !natsServer.alive()) {
                    String said = Files.exists(log) ? Files.readString(log) : "";
                    throw new IllegalStateException("nats-server did not listen on 127.0.0.1:" + port + "; its log:\n" + said, e);
                }
                Thread.sleep(50);
            }
        }
    }

    @Override
    public void call(byte[] payload) throws Exception {
        request("bench.call", payload);
    }

    @Override
    public long castFor(byte[] payload, long nanos) {
        long end = System.nanoTime() + nanos;
        long sent = 0;
        while (true) {
            // The clock is read once per 64 publishes: a clock read costs as much as a publish here.
            for (int i = 0; i < 64; i++) {
                nc.publish("bench.cast", payload);
            }
            sent += 64;
            if (System.nanoTime() >= end) {
                return sent;
            }
        }
    }

    @Override
    public void resetReceiver() throws Exception {
        request("bench.reset", new byte[0]);
    }

    @Override
    public Received received() throws Exception {
        ByteBuffer b = ByteBuffer.wrap(request("bench.stats", new byte[0]).getData());
        return new Received(b.getLong(), b.getLong(), b.getLong());
    }

    private Message request(String subject, byte[] data) throws Exception {
        Message m = nc.request(subject, data, Duration.ofSeconds(60));
        if (m == null) {
            throw new IllegalStateException("nats: no answer on " + subject + " within 60 s");
        }
        return m;
    }

    @Override
    public void close() {
        try {
            if (nc != null) {
                nc.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (responder != null) {
            responder.close();
        }
        if (natsServer != null) {
            natsServer.close();
        }
    }
}
