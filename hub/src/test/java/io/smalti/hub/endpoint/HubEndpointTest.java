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
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.Pem;
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

    private TestCredentials credentials;
    private final java.util.concurrent.ConcurrentHashMap<String, SSLContext> contexts = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeAll
    void start(OneNodeRing ring, @TempDir Path dataDir) throws Exception {
        HubSettings settings = new HubSettings("127.0.0.1", 0, MAX_FRAME, Duration.ofSeconds(30), 1 << 20, 256 << 10,
                Duration.ofSeconds(5), Duration.ofMillis(500), 1, Duration.ofSeconds(2));
        router = new Router(OneNodeRing.NODE, 1, ring.records(), settings);
        credentials = new TestCredentials(dataDir, OneNodeRing.NODE);
        endpoint = HubEndpoint.start(settings, credentials, router);
    }

    /** A TLS context presenting a fresh harness certificate of {@code component}, issued for this hub's node. */
    private SSLContext as(String component) throws Exception {
        KeyPair pair = KeyAlgorithm.EC.generate();
        X509Certificate cert = cert(credentials.harness(component, OneNodeRing.NODE, Instant.now(), Duration.ofHours(1), pair));
        return TestCredentials.client(credentials.ca().certificate(), cert, pair);
    }

    private static X509Certificate cert(HubTls.Issued issued) {
        return Pem.parseCertificate(issued.certificate());
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

        Client(SSLContext tls) throws IOException {
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
    void aHarnessIsWelcomedOverTlsAndServed() throws Exception {
        String id = newComponent();
        try (Client c = new Client(as(id))) {
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
    void aFrameOverTheLimitIsRefusedWithTooLargeAndTheConnectionClosed() throws Exception {
        String id = newComponent();
        try (Client c = new Client(as(id))) {
            c.send(hello(id));
            assertTrue(c.next().hasWelcome());
            c.send(logOfSize(MAX_FRAME + 1));
            Frame f = c.next();
            assertEquals(Error.Code.TOO_LARGE, errorCode(f), f.toString());
            assertTrue(c.closedByHub());
        }
    }

    @Test
    void aFrameOfExactlyTheAnnouncedLimitIsAccepted() throws Exception {
        String id = newComponent();
        try (Client c = new Client(as(id))) {
            c.send(hello(id));
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

    /** Says Hello as {@code component} over {@code tls}; returns the hub's answer and whether it closed the connection. */
    private Frame helloAnswer(SSLContext tls, String component) throws Exception {
        try (Client c = new Client(tls)) {
            c.send(hello(component));
            Frame f = c.next();
            if (f.hasError()) {
                assertTrue(c.closedByHub(), "a refused hello closes the connection");
            }
            return f;
        }
    }

    private void assertRefused(Frame f, String reason) {
        assertEquals(Error.Code.UNAUTHENTICATED, errorCode(f), f.toString());
        assertTrue(f.getError().getMessage().contains(reason), "expected '" + reason + "' in: " + f.getError().getMessage());
    }

    @Test
    void aHarnessWithoutTheRightCertificateIsRefusedSayingWhy() throws Exception {
        String id = newComponent();
        X509Certificate ca = credentials.ca().certificate();
        KeyPair pair = KeyAlgorithm.EC.generate();
        // No certificate at all.
        assertRefused(helloAnswer(TestCredentials.client(ca, null, null), id), "no client certificate");
        // Another component's certificate (a container speaking for another instance).
        assertRefused(helloAnswer(as(newComponent()), id), "the hello claims " + id);
        // Issued for another node's hub.
        X509Certificate elsewhere = cert(credentials.harness(id, "other-node", Instant.now(), Duration.ofHours(1), pair));
        assertRefused(helloAnswer(TestCredentials.client(ca, elsewhere, pair), id), "issued for node other-node");
        // Expired.
        X509Certificate expired = cert(credentials.harness(id, OneNodeRing.NODE, Instant.now().minus(Duration.ofHours(2)),
                Duration.ofMinutes(30), pair));
        assertRefused(helloAnswer(TestCredentials.client(ca, expired, pair), id), "expired");
        // Revoked.
        X509Certificate revoked = cert(credentials.harness(id, OneNodeRing.NODE, Instant.now(), Duration.ofHours(1), pair));
        credentials.revoke(revoked.getSerialNumber());
        assertRefused(helloAnswer(TestCredentials.client(ca, revoked, pair), id), "revoked");
        // From another cluster's CA.
        TestCredentials stranger = new TestCredentials(java.nio.file.Files.createTempDirectory("other-ca"), OneNodeRing.NODE);
        X509Certificate foreign = cert(stranger.harness(id, OneNodeRing.NODE, Instant.now(), Duration.ofHours(1), pair));
        assertRefused(helloAnswer(TestCredentials.client(ca, foreign, pair), id), "not issued by this cluster's CA");
        // The component's own certificate still works.
        assertTrue(helloAnswer(as(id), id).hasWelcome());
    }

    @Test
    void aTokenIsRedeemedOnceForACertificateThatThenSpeaksForItsComponent() throws Exception {
        String id = newComponent();
        String token = credentials.token(id);
        KeyPair pair = KeyAlgorithm.EC.generate();
        SSLContext anonymous = TestCredentials.client(credentials.ca().certificate(), null, null);
        Frame enrolled;
        try (Client c = new Client(anonymous)) {
            c.send(Frame.newBuilder().setCorrelation(1).setEnroll(io.smalti.protocol.hub.Enroll.newBuilder().setToken(token)
                    .setPublicKey(com.google.protobuf.ByteString.copyFrom(pair.getPublic().getEncoded()))).build());
            enrolled = c.next();
            assertTrue(enrolled.hasEnrolled(), enrolled.toString());
            assertTrue(c.closedByHub(), "an enrolment connection ends after its answer");
        }
        X509Certificate cert = Pem.parseCertificate(enrolled.getEnrolled().getCertificate().toByteArray());
        assertEquals(pair.getPublic(), cert.getPublicKey());
        assertTrue(helloAnswer(TestCredentials.client(credentials.ca().certificate(), cert, pair), id).hasWelcome());
        // Used twice: refused.
        try (Client c = new Client(anonymous)) {
            c.send(Frame.newBuilder().setCorrelation(2).setEnroll(io.smalti.protocol.hub.Enroll.newBuilder().setToken(token)
                    .setPublicKey(com.google.protobuf.ByteString.copyFrom(pair.getPublic().getEncoded()))).build());
            Frame f = c.next();
            assertRefused(f, "not valid");
            assertTrue(c.closedByHub());
        }
    }

    @Test
    void connectionsThatNeverSayHelloAreClosedAndDoNotStopTheHubServingOthers() throws Exception {
        List<java.net.Socket> idle = new java.util.ArrayList<>();
        try {
            // 500 connections that say nothing, not even a TLS handshake.
            for (int i = 0; i < 500; i++) {
                java.net.Socket s = new java.net.Socket(endpoint.address().getAddress(), endpoint.address().getPort());
                s.setSoTimeout(10_000);
                idle.add(s);
            }
            String id = newComponent();
            long t0 = System.nanoTime();
            assertTrue(helloAnswer(as(id), id).hasWelcome(), "the hub serves others meanwhile");
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "and promptly");
            // The hello timeout is 2 s here: every idle connection is closed by the hub within it (plus slack).
            long deadline = System.nanoTime() + 8_000_000_000L;
            for (java.net.Socket s : idle) {
                s.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                assertEquals(-1, s.getInputStream().read(), "an idle connection is closed by the hub");
            }
        } finally {
            for (java.net.Socket s : idle) {
                s.close();
            }
        }
    }
}
