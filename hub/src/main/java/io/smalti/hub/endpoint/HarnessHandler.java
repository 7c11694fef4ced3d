package io.smalti.hub.endpoint;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.smalti.hub.records.HubKeys;
import io.smalti.hub.router.Router;
import io.smalti.hub.router.Session;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import io.smalti.protocol.hub.Welcome;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One harness connection: decodes frames (already split by length), expects a Hello first, then hands
 * every frame to the component's {@link Session}. A frame that does not decode is answered with
 * BAD_REQUEST and the connection keeps serving; an oversized frame, a missing or wrong-version hello
 * closes it after saying why. Runs on the channel's event loop.
 */
final class HarnessHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(HarnessHandler.class);
    static final int VERSION = 1;
    /** How long a sender's connection is left unread when the congested receiver drains nothing meanwhile. */
    static final long MAX_PAUSE_MILLIS = 500;

    private final Router router;
    private final HubTls tls;
    private final long helloTimeoutMillis;
    private ChannelLink link;
    /** The component this connection's certificate and hello speak for, once checked. */
    private String component;
    private Session session;
    private boolean helloSeen;
    private boolean batchStarted;
    /** Counts the pauses of this connection, so that a timer of an earlier pause does not end a later one. */
    private long pauses;

    private final CredentialUse vault;

    HarnessHandler(Router router, HubTls tls, java.time.Duration helloTimeout) {
        this(router, tls, CredentialUse.NONE, helloTimeout);
    }

    HarnessHandler(Router router, HubTls tls, CredentialUse vault, java.time.Duration helloTimeout) {
        this.router = router;
        this.tls = tls;
        this.vault = vault;
        this.helloTimeoutMillis = helloTimeout.toMillis();
    }

    /**
     * A connection that has not said Hello (or Enroll) within the timeout, TLS handshake included, is closed: an
     * idle or stuck client must not hold a connection (and its buffers) for ever.
     */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.executor().schedule(() -> {
            if (!helloSeen && ctx.channel().isActive()) {
                LOG.info("Closing hub connection from {}: no Hello within {} ms", ctx.channel().remoteAddress(),
                        helloTimeoutMillis);
                ctx.close();
            }
        }, helloTimeoutMillis, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!batchStarted) {
            batchStarted = true;
            ChannelLink.takeCongested(); // set by other work of this thread: not this batch's doing
        }
        Frame frame;
        ByteBuf buf = (ByteBuf) msg;
        try {
            frame = Frame.parseFrom(buf.nioBuffer());
        } catch (InvalidProtocolBufferException e) {
            refuse(ctx, 0, Error.Code.BAD_REQUEST, "malformed frame (" + buf.readableBytes() + " bytes): " + e.getMessage(),
                    !helloSeen);
            return;
        } finally {
            buf.release();
        }
        if (session != null) {
            if (frame.hasRenew()) {
                renew(ctx, frame);
            } else if (frame.hasUseCredential()) {
                useCredential(ctx, frame);
            } else {
                session.onFrame(frame);
            }
        } else if (!helloSeen && frame.hasEnroll()) {
            enroll(ctx, frame);
        } else if (!helloSeen) {
            hello(ctx, frame);
        } else {
            // Hello said, location still being written: the harness must wait for Welcome.
            refuse(ctx, frame.getCorrelation(), Error.Code.BAD_REQUEST, "wait for Welcome before sending requests", false);
        }
    }

    private void hello(ChannelHandlerContext ctx, Frame frame) {
        if (!frame.hasHello()) {
            refuse(ctx, frame.getCorrelation(), Error.Code.BAD_REQUEST, "the first frame must be a Hello, not "
                    + frame.getBodyCase(), true);
            return;
        }
        Hello hello = frame.getHello();
        if (hello.getVersion() != VERSION) {
            refuse(ctx, frame.getCorrelation(), Error.Code.UNSUPPORTED_VERSION, "this hub speaks protocol version " + VERSION
                    + "; the hello asked for version " + hello.getVersion(), true);
            return;
        }
        String component;
        try {
            component = HubKeys.checkComponent(hello.getComponent());
        } catch (IllegalArgumentException e) {
            refuse(ctx, frame.getCorrelation(), Error.Code.BAD_REQUEST, "hello: " + e.getMessage(), true);
            return;
        }
        java.util.Optional<String> refused = tls.refusal(peerChain(ctx), component);
        if (refused.isPresent()) {
            LOG.warn("Refused a harness connection from {} claiming component {}: {}", ctx.channel().remoteAddress(),
                    component, refused.get());
            refuse(ctx, frame.getCorrelation(), Error.Code.UNAUTHENTICATED, refused.get(), true);
            return;
        }
        this.component = component;
        helloSeen = true;
        link = new ChannelLink(ctx.channel());
        router.open(component, link).whenComplete((s, err) -> ctx.executor().execute(() -> {
            if (err != null) {
                refuse(ctx, frame.getCorrelation(), Error.Code.UNAVAILABLE, "cannot record where component " + component
                        + " is connected: " + Router.rootMessage(err), true);
                return;
            }
            session = s;
            if (!ctx.channel().isActive()) {
                s.closed();
                return;
            }
            LOG.info("Component {} connected from {} ({})", component, link.describe(), hello.getAgent());
            s.welcome(Frame.newBuilder().setCorrelation(frame.getCorrelation()).setWelcome(Welcome.newBuilder()
                    .setVersion(VERSION).setComponent(component).setNode(router.self())
                    .setMaxFrame(router.settings().maxFrame())).build());
        }));
    }

    /** Redeems a token for a certificate, answers Enrolled (or why not) and closes: the harness reconnects with it. */
    private void enroll(ChannelHandlerContext ctx, Frame frame) {
        helloSeen = true; // nothing else may follow on this connection
        tls.redeem(frame.getEnroll().getToken(), frame.getEnroll().getPublicKey().toByteArray())
                .whenComplete((issued, err) -> ctx.executor().execute(() -> {
                    if (err != null) {
                        refuse(ctx, frame.getCorrelation(), Error.Code.UNAUTHENTICATED, "enrolment refused: "
                                + Router.rootMessage(err), true);
                        return;
                    }
                    ctx.writeAndFlush(enrolled(frame.getCorrelation(), issued)).addListener(ChannelFutureListener.CLOSE);
                }));
    }

    /** A renewed certificate for the session's own component; the connection and its session stay as they are. */
    private void renew(ChannelHandlerContext ctx, Frame frame) {
        tls.renew(component, frame.getRenew().getPublicKey().toByteArray())
                .whenComplete((issued, err) -> ctx.executor().execute(() -> {
                    if (err != null) {
                        refuse(ctx, frame.getCorrelation(), Error.Code.UNAVAILABLE, "cannot renew the certificate of "
                                + component + ": " + Router.rootMessage(err), false);
                    } else {
                        ctx.writeAndFlush(enrolled(frame.getCorrelation(), issued));
                    }
                }));
    }

    /** Runs a vault operation as this connection's component; the answer goes back on this connection. */
    private void useCredential(ChannelHandlerContext ctx, Frame frame) {
        vault.use(component, frame.getUseCredential()).whenComplete((result, err) -> ctx.executor().execute(() -> {
            if (err == null) {
                ctx.writeAndFlush(Frame.newBuilder().setCorrelation(frame.getCorrelation()).setCredentialResult(result).build());
                return;
            }
            Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                    ? err.getCause() : err;
            Error.Code code = cause instanceof CredentialUse.Refused r
                    ? (r.forbidden ? Error.Code.FORBIDDEN : r.unknown ? Error.Code.UNKNOWN_TARGET : Error.Code.BAD_REQUEST)
                    : Error.Code.UNAVAILABLE;
            refuse(ctx, frame.getCorrelation(), code, "credential " + frame.getUseCredential().getName() + ": "
                    + Router.rootMessage(cause), false);
        }));
    }

    private static Frame enrolled(long correlation, HubTls.Issued issued) {
        return Frame.newBuilder().setCorrelation(correlation).setEnrolled(io.smalti.protocol.hub.Enrolled.newBuilder()
                .setCertificate(com.google.protobuf.ByteString.copyFrom(issued.certificate()))
                .setCaCertificate(com.google.protobuf.ByteString.copyFrom(issued.caCertificate()))
                .setNotAfterMs(issued.notAfterMillis())).build();
    }

    private static java.security.cert.X509Certificate[] peerChain(ChannelHandlerContext ctx) {
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl == null) {
            return new java.security.cert.X509Certificate[0];
        }
        try {
            java.security.cert.Certificate[] certs = ssl.engine().getSession().getPeerCertificates();
            java.security.cert.X509Certificate[] out = new java.security.cert.X509Certificate[certs.length];
            for (int i = 0; i < certs.length; i++) {
                out[i] = (java.security.cert.X509Certificate) certs[i];
            }
            return out;
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            return new java.security.cert.X509Certificate[0];
        }
    }

    private void refuse(ChannelHandlerContext ctx, long correlation, Error.Code code, String message, boolean close) {
        Frame f = Frame.newBuilder().setCorrelation(correlation).setError(Error.newBuilder().setCode(code).setMessage(message)).build();
        if (close) {
            LOG.info("Closing hub connection from {}: {}", ctx.channel().remoteAddress(), message);
            ctx.writeAndFlush(f).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(f);
        }
    }

    /**
     * After a read batch: if a frame of it went to a congested connection on this node, stop reading until
     * that connection drains. The sender's harness then stops reading from its component, whose sends
     * block: a fast caster is slowed to the pace of its receiver instead of losing casts. A receiver that
     * drains nothing for {@link #MAX_PAUSE_MILLIS} does not hold its senders any longer: they are read
     * again, its queue reaches the hard limit, and what else is sent to it is refused.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        batchStarted = false;
        ChannelLink congested = ChannelLink.takeCongested();
        if (congested != null && congested != link && ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
            congested.whenWritable(() -> ctx.channel().eventLoop().execute(() -> ctx.channel().config().setAutoRead(true)));
            resumeUnlessDraining(ctx, congested, congested.backlog(), ++pauses);
        }
        ctx.fireChannelReadComplete();
    }

    private void resumeUnlessDraining(ChannelHandlerContext ctx, ChannelLink congested, long backlog, long pause) {
        ctx.executor().schedule(() -> {
            if (pause != pauses || ctx.channel().config().isAutoRead()) {
                return; // resumed since (the receiver drained), perhaps paused again: that pause has its own timer
            }
            long now = congested.backlog();
            if (congested.congested() && now < backlog && congested.isActive()) {
                resumeUnlessDraining(ctx, congested, now, pause); // slow but reading: keep waiting for it
            } else {
                ctx.channel().config().setAutoRead(true);
            }
        }, MAX_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (link != null && ctx.channel().isWritable()) {
            link.writable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (link != null) {
            link.writable(); // nobody waits for a closed connection
        }
        if (session != null) {
            session.closed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            refuse(ctx, 0, Error.Code.TOO_LARGE, "frame too large: " + cause.getMessage() + " (limit "
                    + router.settings().maxFrame() + " bytes)", true);
        } else if (cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
            LOG.info("Closing hub connection from {}: TLS failed: {}", ctx.channel().remoteAddress(), cause.getCause().getMessage());
            ctx.close();
        } else if (cause instanceof java.io.IOException) {
            ctx.close(); // reset by peer and the like: the close says it all
        } else {
            LOG.warn("Closing hub connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
