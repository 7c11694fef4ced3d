package io.smalti.hub.endpoint;

import static io.smalti.hub.testing.Frames.errorCode;
import static io.smalti.hub.testing.Frames.hello;
import static io.smalti.hub.testing.Frames.select;
import static io.smalti.hub.testing.OneNodeRing.newComponent;
import static io.smalti.hub.testing.OneNodeRing.newGroup;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.hub.router.HubSettings;
import io.smalti.hub.router.Router;
import io.smalti.hub.testing.OneNodeRing;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Log;
import io.smalti.protocol.hub.Selector;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The real harness endpoint over TCP and TLS (the pinned development certificate): hello, Welcome and the frame limit. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OneNodeRing.Extension.class)
class HubEndpointTest {
    private static final int MAX_FRAME = 8 << 10;

    private Router router;
    private HubEndpoint endpoint;
    private SSLContext tls;

    @BeforeAll
    void start(OneNodeRing ring, @TempDir Path dataDir) throws Exception {
        HubSettings settings = new HubSettings("127.0.0.1", 0, MAX_FRAME, Duration.ofSeconds(30), 1 << 20, 256 << 10,
                Duration.ofSeconds(5), Duration.ofMillis(500), 1);
        router = new Router(OneNodeRing.NODE, 1, ring.records(), settings);
        DevCertificate certificate = DevCertificate.loadOrCreate(dataDir, "127.0.0.1");
        endpoint = HubEndpoint.start(settings, certificate, router);
        // Trust exactly the hub's certificate, as a harness pins it.
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("hub", CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(certificate.certificatePem().getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
    }

    @AfterAll
    void stop() {
        if (endpoint != null) {
            endpoint.close();
        }
        if (router != null) {
            router.close();
        }
    }

    /** A harness's TLS connection, blocking. */
    private final class Client implements AutoCloseable {
        final SSLSocket socket;
        final DataInputStream in;
        final DataOutputStream out;

        Client() throws IOException {
            socket = (SSLSocket) tls.getSocketFactory().createSocket(endpoint.address().getAddress(), endpoint.address().getPort());
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        void send(Frame f) throws IOException {
            byte[] b = f.toByteArray();
            out.writeInt(b.length);
            out.write(b);
            out.flush();
        }

        Frame next() throws IOException {
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            return Frame.parseFrom(b);
        }

        /** True when the hub closed the connection (end of stream, or a reset). */
        boolean closedByHub() {
            try {
                return in.read() < 0;
            } catch (EOFException e) {
                return true;
            } catch (IOException e) {
                return !(e instanceof java.net.SocketTimeoutException);
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A Log frame (answered by nothing) of exactly {@code size} bytes. */
    private static Frame logOfSize(int size) {
        String pad = "x".repeat(size);
        Frame f = Frame.newBuilder().setLog(Log.newBuilder().setMessage(pad)).build();
        while (f.getSerializedSize() > size) {
            pad = pad.substring(0, pad.length() - (f.getSerializedSize() - size));
            f = Frame.newBuilder().setLog(Log.newBuilder().setMessage(pad)).build();
        }
        assertEquals(size, f.getSerializedSize());
        return f;
    }

    @Test
    void aHarnessIsWelcomedOverTlsAndServed() throws IOException {
        String id = newComponent();
        try (Client c = new Client()) {
            c.send(hello(id));
            Frame welcome = c.next();
            assertTrue(welcome.hasWelcome(), welcome.toString());
            assertEquals(id, welcome.getWelcome().getComponent());
            assertEquals(MAX_FRAME, welcome.getWelcome().getMaxFrame());
            c.send(select(2, newGroup("empty"), Selector.ALL));
            Frame members = c.next();
            assertTrue(members.hasMembers(), members.toString());
            assertEquals(2, members.getCorrelation());
        }
    }

    @Test
    void aFrameOverTheLimitIsRefusedWithTooLargeAndTheConnectionClosed() throws IOException {
        try (Client c = new Client()) {
            c.send(hello(newComponent()));
            assertTrue(c.next().hasWelcome());
            c.send(logOfSize(MAX_FRAME + 1));
            Frame f = c.next();
            assertEquals(Error.Code.TOO_LARGE, errorCode(f), f.toString());
            assertTrue(c.closedByHub());
        }
    }

    @Test
    void aFrameOfExactlyTheAnnouncedLimitIsAccepted() throws IOException {
        try (Client c = new Client()) {
            c.send(hello(newComponent()));
            int limit = c.next().getWelcome().getMaxFrame();
            c.send(logOfSize(limit));
            try {
                c.send(select(3, newGroup("empty"), Selector.ANY));
            } catch (IOException e) {
                // the hub closed the connection already: what it said before is still to be read
            }
            Frame f = c.next();
            assertTrue(f.hasMembers(), "the connection goes on after a frame of max_frame bytes, got " + f);
        }
    }
}
