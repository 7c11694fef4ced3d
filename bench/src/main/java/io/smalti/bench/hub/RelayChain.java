package io.smalti.bench.hub;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The raw baseline: a client (this JVM), K relay processes and an echo server ({@link RelayNode}), linked
 * by the transports of the hub path, e.g. {@code uds,tls,tls,uds} for one node (component, harness,
 * hub, harness, component) and {@code uds,tls,tls,tls,uds} for two (the hubs talk over Artery's tls-tcp).
 * Whatever the hub costs above this chain is the hub's own work. The relays' TLS is server-only, the hub's
 * mutual: that changes the handshake (once per connection, see bench/security-bench), not what a message costs.
 *
 * <p>The client uses a blocking JDK Unix-domain socket: a call is one write and the reads of its
 * answer on the calling thread, with no thread hand-off; casts are written in batches of up to 64 KiB,
 * and a blocking write is the back-pressure.
 */
final class RelayChain implements MessagingSystem {

    private final String name;
    private final List<String> links;
    private final Path dir;
    private final Path cert;
    private final Path key;
    private final List<Child> children = new ArrayList<>();
    private SocketChannel socket;
    private final ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
    private final ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
    private long correlation;

    /** {@code links}: one transport per hop, first and last {@code uds}, e.g. {@code [uds, tls, tls, uds]}. */
    RelayChain(String name, List<String> links, Path dir, Path cert, Path key) {
        if (links.size() < 2 || !links.get(0).equals("uds") || !links.get(links.size() - 1).equals("uds")) {
            throw new IllegalArgumentException("a chain starts and ends with a uds link: " + links);
        }
        this.name = name;
        this.links = List.copyOf(links);
        this.dir = dir;
        this.cert = cert;
        this.key = key;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String path() {
        return String.join(">", links) + " (" + (links.size() - 1) + " relays)";
    }

    @Override
    public void start() throws Exception {
        // Start from the end of the chain so every relay knows where its next hop listens.
        Child server = Child.java(name + "-echo", RelayNode.class, "256m",
                List.of("echo", "uds:" + dir.resolve(name + "-echo.sock")));
        children.add(server);
        String next = server.await("READY", 60);
        for (int i = links.size() - 2; i >= 0; i--) {
            String transport = links.get(i);
            String listen = transport.equals("uds") ? "uds:" + dir.resolve(name + "-r" + (i + 1) + ".sock") : transport + ":127.0.0.1:0";
            Child relay = Child.java(name + "-r" + (i + 1), RelayNode.class, "256m",
                    List.of("relay", listen, next, cert.toString(), key.toString()));
            children.add(relay);
            next = relay.await("READY", 60);
        }
        socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        socket.connect(UnixDomainSocketAddress.of(next.substring("uds:".length())));
        in.limit(0);
    }

    @Override
    public void call(byte[] payload) throws IOException {
        roundTrip(RelayNode.CALL, payload);
    }

    @Override
    public long castFor(byte[] payload, long nanos) throws IOException {
        int frame = RelayNode.HEADER + payload.length;
        int perBatch = out.capacity() / frame;
        out.clear();
        for (int i = 0; i < perBatch; i++) {
            out.putInt(frame - 4).put(RelayNode.CAST).putLong(0).put(payload);
        }
        int batch = out.position();
        long end = System.nanoTime() + nanos;
        long sent = 0;
        while (System.nanoTime() < end) {
            out.limit(batch).position(0);
            while (out.hasRemaining()) {
                socket.write(out);
            }
            sent += perBatch;
        }
        return sent;
    }

    @Override
    public void resetReceiver() throws IOException {
        roundTrip(RelayNode.RESET, new byte[0]);
    }

    @Override
    public Received received() throws IOException {
        ByteBuffer answer = roundTrip(RelayNode.STATS, new byte[0]);
        return new Received(answer.getLong(), answer.getLong(), answer.getLong());
    }

    /** Sends one frame and returns the answer's body after the header, positioned at the payload. */
    private ByteBuffer roundTrip(byte kind, byte[] payload) throws IOException {
        long id = ++correlation;
        out.clear();
        out.putInt(1 + 8 + payload.length).put(kind).putLong(id).put(payload).flip();
        while (out.hasRemaining()) {
            socket.write(out);
        }
        fill(4);
        int length = in.getInt();
        fill(length);
        ByteBuffer body = in.slice(in.position(), length);
        in.position(in.position() + length);
        if (body.get() != kind || body.getLong() != id) {
            throw new IOException(name + ": answer does not match the request");
        }
        return body;
    }

    /** Reads until at least {@code n} bytes are buffered. */
    private void fill(int n) throws IOException {
        if (in.remaining() >= n) {
            return;
        }
        in.compact();
        while (in.position() < n) {
            if (socket.read(in) < 0) {
                throw new EOFException(name + ": the chain closed the connection");
            }
        }
        in.flip();
    }

    @Override
    public void close() {
        try {
            if (socket != null) {
                socket.close();
            }
        } catch (IOException e) {
            // Closing anyway.
        }
        // Stop in chain order, client side first, so no process logs a broken link to one already gone.
        for (int i = children.size() - 1; i >= 0; i--) {
            children.get(i).close();
        }
    }
}
