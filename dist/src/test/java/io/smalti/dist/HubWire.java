package io.smalti.dist;

import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A raw connection to a hub endpoint, as a harness would open it (mutual TLS with the cluster CA),
 * for tests that send well-formed and malformed frames byte by byte. Not thread-safe.
 */
final class HubWire implements AutoCloseable {
    private final SSLSocket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private HubWire(SSLSocket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A connection without a client certificate (it may only enrol), trusting the cluster CA {@code caPem}. */
    static HubWire open(String host, int port, String caPem) throws Exception {
        return open(host, port, caPem, null, null);
    }

    /** A connection presenting {@code own} (with its key). */
    static HubWire withCertificate(String host, int port, String caPem, X509Certificate own, java.security.PrivateKey key)
            throws Exception {
        return open(host, port, caPem, own, key);
    }

    private static HubWire open(String host, int port, String caPem, X509Certificate own, java.security.PrivateKey key)
            throws Exception {
        X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        javax.net.ssl.KeyManager[] keys = null;
        if (own != null) {
            KeyStore mine = KeyStore.getInstance("PKCS12");
            mine.load(null, null);
            mine.setKeyEntry("me", key, new char[0], new java.security.cert.Certificate[] {own});
            javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                    javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(mine, new char[0]);
            keys = kmf.getKeyManagers();
        }
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keys, tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(host, port);
        s.setSoTimeout(15_000);
        // The hub's certificate names its node, not necessarily this address: the CA is what is checked.
        s.startHandshake();
        return new HubWire(s);
    }

    /**
     * Enrols as a harness would (a token from the node's API at {@code api}, redeemed at the hub for a certificate of a
     * key made here) and connects with that certificate as {@code component}; says nothing yet.
     */
    static HubWire enrolled(String api, String host, int port, String caPem, String component) throws Exception {
        java.security.KeyPair pair = io.smalti.credentials.ca.KeyAlgorithm.EC.generate();
        X509Certificate own;
        try (HubWire e = open(host, port, caPem)) {
            e.send(Frame.newBuilder().setCorrelation(1).setEnroll(io.smalti.protocol.hub.Enroll.newBuilder()
                    .setToken(Dist.hubToken(api, component))
                    .setPublicKey(com.google.protobuf.ByteString.copyFrom(pair.getPublic().getEncoded()))).build());
            Frame enrolled = e.read();
            if (!enrolled.hasEnrolled()) {
                throw new AssertionError("expected Enrolled, got " + enrolled);
            }
            own = io.smalti.credentials.ca.Pem.parseCertificate(enrolled.getEnrolled().getCertificate().toByteArray());
        }
        return open(host, port, caPem, own, pair.getPrivate());
    }

    /** {@link #enrolled}, then hello as {@code component}; returns after the Welcome. */
    static HubWire hello(String api, String host, int port, String caPem, String component) throws Exception {
        HubWire w = enrolled(api, host, port, caPem, component);
        w.send(Frame.newBuilder().setCorrelation(1).setHello(Hello.newBuilder().setVersion(1).setComponent(component)
                .setAgent("HubIT")).build());
        Frame welcome = w.read();
        if (!welcome.hasWelcome()) {
            throw new AssertionError("expected Welcome, got " + welcome);
        }
        return w;
    }

    void send(Frame f) throws IOException {
        byte[] body = f.toByteArray();
        raw(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array());
    }

    void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next frame; throws on timeout, EOFException when the hub closed the connection. */
    Frame read() throws IOException {
        int len = in.readInt();
        byte[] b = new byte[len];
        in.readFully(b);
        return Frame.parseFrom(b);
    }

    /** Reads until a frame with this correlation arrives (events in between are skipped). */
    Frame answer(long correlation) throws IOException {
        while (true) {
            Frame f = read();
            if (f.getCorrelation() == correlation) {
                return f;
            }
        }
    }

    /** True when the hub closes the connection within the read timeout (frames before the close are skipped). */
    boolean closedByHub() throws IOException {
        try {
            while (true) {
                read();
            }
        } catch (EOFException | javax.net.ssl.SSLException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
