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
 * A raw connection to a hub endpoint, as a harness would open it (TLS pinned to the node's certificate),
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

    static HubWire open(String host, int port, String certificatePem) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(certificatePem.getBytes(StandardCharsets.US_ASCII)));
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        ks.setCertificateEntry("hub", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(host, port);
        s.setSoTimeout(15_000);
        s.startHandshake();
        return new HubWire(s);
    }

    /** Opens a connection and says hello as {@code component}; returns after the Welcome. */
    static HubWire hello(String host, int port, String certificatePem, String component) throws Exception {
        HubWire w = open(host, port, certificatePem);
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
