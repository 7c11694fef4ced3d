package io.smalti.harness;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the harness connected to its hub: enrols once (redeems its one-time token for its own certificate), then
 * mutual TLS with the cluster CA, Hello/Welcome, renewal at two thirds of the certificate's life, and relaying
 * through the {@link Relay}; on loss, reconnects with exponential back-off (with jitter) until a session
 * starts again or the {@link HubLease} runs out. Then it stops trying and has the harness fence its instance
 * (its node is lost; the cluster has started the instance elsewhere). Confined to the harness's event loop.
 */
final class HubConnector {
    private static final Logger log = LoggerFactory.getLogger(HubConnector.class);

    /** The hub refused the harness's Hello in a way retrying cannot fix. */
    static final class RefusedException extends Exception {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    private final HarnessConfig config;
    private final Relay relay;
    private final EventLoop loop;
    private final Transport transport;
    private final SslProvider provider = sslProvider();
    /** For the enrolment connection: no client certificate yet. */
    private final SslContext enrolSsl;
    /** With this harness's own certificate, once enrolled; rebuilt on renewal (new connections use the newest). */
    private SslContext ssl;
    private KeyPair keys;
    private X509Certificate own;
    /** The key pair of a renewal asked for and not answered yet. */
    private KeyPair renewing;
    private long renewals;
    private final String agent;
    private final CompletableFuture<Void> firstSession = new CompletableFuture<>();
    private final HubLease lease;
    private final Runnable fence;
    private long firstDeadlineNanos;
    private long backoff;
    private boolean stopped;
    private Channel channel;

    /**
     * @param fence run once on the event loop when the hub lease has run out: the harness stops the component
     *     and exits; no session starts after it
     */
    HubConnector(HarnessConfig config, Relay relay, EventLoop loop, Transport transport, String agent, Runnable fence)
            throws SSLException {
        this.config = config;
        this.lease = new HubLease(config.hubLeaseMillis(), System::nanoTime);
        this.fence = fence;
        this.relay = relay;
        this.loop = loop;
        this.transport = transport;
        this.agent = agent;
        // Trust node certificates of the configured cluster CA. The harness reaches its hub by an address (loopback,
        // the node bridge) that need not be among the certificate's names, and the CA issues node certificates only
        // to nodes: hostname verification is off, the subject is checked instead.
        this.enrolSsl = SslContextBuilder.forClient()
                .sslProvider(provider)
                .trustManager(new CaTrustManager(config.hubCertificate(), config.hubNodeCertificate()))
                .endpointIdentificationAlgorithm(null)
                .build();
        this.backoff = config.reconnectInitialMillis();
    }

    /** A client context with this harness's own key and certificate. */
    private SslContext withOwnCertificate() throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(provider)
                .keyManager(keys.getPrivate(), own, config.hubCertificate())
                .trustManager(new CaTrustManager(config.hubCertificate(), config.hubNodeCertificate()))
                .endpointIdentificationAlgorithm(null)
                .build();
    }

    static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make the harness's key pair: " + e, e);
        }
    }

    /** Takes a certificate the hub sent (enrolment or renewal) for {@code pair}; schedules its renewal. */
    private void certified(io.smalti.protocol.hub.Enrolled enrolled, KeyPair pair) throws CertificateException, SSLException {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(enrolled.getCertificate().toByteArray()));
        if (!cert.getPublicKey().equals(pair.getPublic())) {
            throw new CertificateException("the hub sent a certificate for another key");
        }
        keys = pair;
        own = cert;
        ssl = withOwnCertificate();
        long life = Math.max(1000, enrolled.getNotAfterMs() - System.currentTimeMillis());
        long generation = ++renewals;
        // Renewed at two thirds of what is left of its life: the session stays; later connections use the new one.
        loop.schedule(() -> renew(generation), life * 2 / 3, TimeUnit.MILLISECONDS);
    }

    /** Asks the hub, over the current session, for a new certificate; retried every 10 s until answered. */
    private void renew(long generation) {
        if (stopped || generation != renewals) {
            return;
        }
        Channel c = channel;
        if (c == null || !c.isActive()) {
            loop.schedule(() -> renew(generation), 1, TimeUnit.SECONDS);
            return;
        }
        renewing = newKeyPair();
        c.writeAndFlush(Frames.encode(c.alloc(), Frame.newBuilder().setRenew(io.smalti.protocol.hub.Renew.newBuilder()
                .setPublicKey(com.google.protobuf.ByteString.copyFrom(renewing.getPublic().getEncoded()))).build()));
        loop.schedule(() -> renew(generation), 10, TimeUnit.SECONDS);
    }

    /** A frame from the hub on a session that is the harness's own (a renewed certificate), not the component's. */
    private void renewed(ByteBuf frame) {
        try {
            io.smalti.protocol.hub.Enrolled e = Frames.decode(frame).getEnrolled();
            if (renewing == null) {
                log.warn("the hub sent a certificate nobody asked for; ignored");
                return;
            }
            certified(e, renewing);
            renewing = null;
            log.info("certificate renewed, valid until {}", own.getNotAfter().toInstant());
        } catch (InvalidProtocolBufferException | CertificateException | SSLException e) {
            log.warn("cannot use the renewed certificate (keeping the current one): {}", e.getMessage());
        } finally {
            frame.release();
        }
    }

    /**
     * BoringSSL (netty-tcnative) when its native library loads, else the JDK's TLS. The JDK's handshake in a
     * JVM that has just started runs its elliptic-curve code in the interpreter: ~150 ms of the harness's
     * start-up, against a few milliseconds natively.
     */
    static SslProvider sslProvider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /**
     * Starts connecting; the future completes when the first hub session is established, or fails with
     * {@link RefusedException} when the hub refuses the protocol version or is unreachable for
     * {@code firstAttemptMillis}.
     */
    CompletableFuture<Void> start(long firstAttemptMillis) {
        loop.execute(() -> {
            firstDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(firstAttemptMillis);
            attempt();
        });
        return firstSession;
    }

    /** Closes the hub connection and stops reconnecting. Returns when the close is done. */
    ChannelFuture stop() {
        CompletableFuture<Channel> current = new CompletableFuture<>();
        loop.execute(() -> {
            stopped = true;
            current.complete(channel);
        });
        Channel c = current.join();
        return c == null ? null : c.close();
    }

    private void attempt() {
        if (stopped) {
            return;
        }
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Harness.WATER_MARK)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslContext context = own == null ? enrolSsl : ssl;
                        ch.pipeline().addLast("tls", context.newHandler(ch.alloc(), config.hubHost(), config.hubPort()));
                        ch.pipeline().addLast("framing",
                                new LengthFieldBasedFrameDecoder(config.maxFrame() + 4, 0, 4, 0, 0, true));
                        ch.pipeline().addLast("hub", new HubHandler());
                    }
                });
        bootstrap.connect(config.hubHost(), config.hubPort()).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                failed("cannot connect to hub " + config.hubHost() + ":" + config.hubPort() + ": " + describe(f.cause()));
            }
        });
    }

    /** One attempt failed or a session ended: retry after the back-off, or give up at first start. */
    private void failed(String why) {
        if (stopped) {
            return;
        }
        if (!firstSession.isDone() && System.nanoTime() - firstDeadlineNanos > 0) {
            firstSession.completeExceptionally(new RefusedException(why + "; giving up"));
            return;
        }
        long delay = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
        backoff = Math.min(config.reconnectMaxMillis(), backoff * 2);
        log.warn("{}; reconnecting in {} ms", why, delay);
        loop.schedule(this::attempt, delay, TimeUnit.MILLISECONDS);
    }

    /** Fences the instance if the lease has run out, else looks again when it would. */
    private void checkLease() {
        if (stopped) {
            return;
        }
        long left = lease.remainingNanos();
        if (left == Long.MAX_VALUE) {
            return; // in a session again: its end looks again
        }
        if (left > 0) {
            loop.schedule(this::checkLease, left, TimeUnit.NANOSECONDS);
            return;
        }
        stopped = true; // no session may start after this: the instance is being replaced elsewhere
        log.error("no hub session for {} (lease): fencing this instance", duration(config.hubLeaseMillis()));
        fence.run();
    }

    /** "30 s", or "1500 ms" when not whole seconds. */
    static String duration(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    private static String describe(Throwable t) {
        // A refused hub certificate: BoringSSL reports "General OpenSslEngine problem" and keeps the trust
        // manager's reason as a cause.
        for (Throwable cause = t; cause != null; cause = cause.getCause()) {
            if (cause instanceof CertificateException && cause.getMessage() != null) {
                return cause.getMessage();
            }
        }
        Throwable c = t;
        while (c.getCause() != null && (c instanceof DecoderException || c.getMessage() == null)) {
            c = c.getCause();
        }
        return c.getMessage() != null ? c.getMessage() : c.toString();
    }

    /** One hub connection: Hello, then Welcome or Error, then relaying. */
    private final class HubHandler extends ChannelInboundHandlerAdapter {
        private final FrameHeader header = new FrameHeader();
        private boolean welcomed;
        private boolean enrolled;
        private KeyPair enrolling;
        private String failure;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent e) {
                if (e.isSuccess() && own == null) {
                    // First connection: redeem the configuration's token for a certificate of a key made here.
                    enrolling = newKeyPair();
                    ctx.writeAndFlush(Frames.encode(ctx.alloc(), Frame.newBuilder().setEnroll(
                            io.smalti.protocol.hub.Enroll.newBuilder().setToken(config.enrolToken())
                                    .setPublicKey(com.google.protobuf.ByteString.copyFrom(enrolling.getPublic().getEncoded())))
                            .build()));
                } else if (e.isSuccess()) {
                    Frame hello = Frame.newBuilder()
                            .setHello(Hello.newBuilder().setVersion(Frames.VERSION).setComponent(config.component())
                                    .setAgent(agent))
                            .build();
                    ctx.writeAndFlush(Frames.encode(ctx.alloc(), hello));
                } else {
                    failure = "TLS handshake with the hub failed: " + describe(e.cause());
                    ctx.close();
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (!header.scan(frame)) {
                frame.release();
                log.warn("malformed frame from the hub dropped: {}", header.malformed);
                return;
            }
            if (welcomed) {
                if (header.body == Frame.BodyCase.ENROLLED.getNumber()) {
                    renewed(frame);
                } else {
                    relay.fromHub(frame, header);
                }
                return;
            }
            try {
                Frame first = Frames.decode(frame);
                switch (first.getBodyCase()) {
                    case ENROLLED -> {
                        try {
                            certified(first.getEnrolled(), enrolling);
                            enrolled = true;
                            log.info("enrolled: certificate {} valid until {}", own.getSubjectX500Principal(),
                                    own.getNotAfter().toInstant());
                        } catch (CertificateException | SSLException | RuntimeException e) {
                            failure = "cannot use the certificate the hub issued: " + e.getMessage();
                        }
                        ctx.close();
                    }
                    case WELCOME -> {
                        if (stopped) {
                            ctx.close(); // fenced (or stopping) while this connection was being made
                            return;
                        }
                        welcomed = true;
                        lease.sessionStarted();
                        channel = ctx.channel();
                        backoff = config.reconnectInitialMillis();
                        relay.hubConnected(ctx.channel(), first.getWelcome());
                        log.info("connected to hub {}:{} (node {}, TLS: {})", config.hubHost(), config.hubPort(),
                                first.getWelcome().getNode(), provider == SslProvider.OPENSSL ? "BoringSSL" : "JDK");
                        firstSession.complete(null);
                    }
                    case ERROR -> {
                        Error error = first.getError();
                        failure = "hub refused the harness: " + error.getCode() + " " + error.getMessage();
                        // A refused token cannot get better by retrying: it is used up, expired or not this node's.
                        boolean fatal = error.getCode() == Error.Code.UNSUPPORTED_VERSION
                                || (own == null && error.getCode() == Error.Code.UNAUTHENTICATED);
                        if (fatal && !firstSession.isDone()) {
                            firstSession.completeExceptionally(new RefusedException(failure));
                        }
                        ctx.close();
                    }
                    default -> {
                        failure = "hub answered Hello with " + first.getBodyCase() + " instead of Welcome";
                        ctx.close();
                    }
                }
            } catch (InvalidProtocolBufferException e) {
                failure = "malformed answer to Hello from the hub: " + e.getMessage();
                ctx.close();
            } finally {
                if (!welcomed) {
                    frame.release();
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            relay.flushLocal();
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (welcomed) {
                relay.hubWritable(ctx.channel());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (welcomed) {
                relay.hubLost(ctx.channel());
                if (channel == ctx.channel()) {
                    channel = null;
                }
                if (!stopped) {
                    lease.sessionEnded();
                    checkLease();
                    failed("hub connection lost");
                }
            } else if (enrolled && !stopped) {
                attempt(); // enrolled: connect again at once, now with the certificate
            } else if (!firstSession.isCompletedExceptionally()) {
                failed(failure != null ? failure : "hub closed the connection before Welcome");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            if (c instanceof TooLongFrameException) {
                failure = "the hub sent a frame over the limit of " + config.maxFrame() + " bytes";
            } else if (failure == null) {
                failure = "hub connection failed: " + describe(cause);
            }
            log.debug("hub connection exception", cause);
            ctx.close();
        }
    }
}
