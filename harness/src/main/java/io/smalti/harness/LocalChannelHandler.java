package io.smalti.harness;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The harness end of one local-channel connection: insists on Hello first, answers Welcome, then hands every
 * frame to the {@link Relay}. Oversized frames get Error TOO_LARGE and the connection is closed; frames that
 * are not protobuf get Error BAD_REQUEST and the connection keeps serving. One instance per connection,
 * confined to its event loop.
 */
final class LocalChannelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(LocalChannelHandler.class);

    private final Relay relay;
    private final int maxFrame;
    private final FrameHeader header = new FrameHeader();
    private boolean welcomed;
    /** Set once the connection is being closed for a protocol violation: later frames are discarded. */
    private boolean refused;

    LocalChannelHandler(Relay relay, int maxFrame) {
        this.relay = relay;
        this.maxFrame = maxFrame;
    }

    /** Installs the framing and this handler on a local-channel pipeline. */
    static void install(ChannelPipeline pipeline, int maxFrame, Relay relay) {
        // Keep the length prefix (strip 0 bytes) so the relay forwards the original bytes unchanged;
        // failFast refuses an oversized frame as soon as its length is read, before buffering it.
        pipeline.addLast("framing", new LengthFieldBasedFrameDecoder(maxFrame + 4, 0, 4, 0, 0, true));
        pipeline.addLast("local", new LocalChannelHandler(relay, maxFrame));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (refused) {
            frame.release();
            return;
        }
        if (!header.scan(frame)) {
            frame.release();
            if (welcomed) {
                reply(ctx, Frames.error(header.correlation, Error.Code.BAD_REQUEST, "malformed frame: " + header.malformed));
            } else {
                refuseAndClose(ctx, Error.Code.BAD_REQUEST, "malformed frame: " + header.malformed);
            }
            return;
        }
        if (welcomed) {
            if (header.body == 0) {
                frame.release();
                reply(ctx, Frames.error(header.correlation, Error.Code.BAD_REQUEST, "frame has no body"));
                return;
            }
            relay.fromComponent(frame, header);
            return;
        }
        try {
            if (header.bodyCase() != Frame.BodyCase.HELLO) {
                refuseAndClose(ctx, Error.Code.BAD_REQUEST, "expected Hello as the first frame, got "
                        + (header.bodyCase() == null ? "body field " + header.body : header.bodyCase()));
                return;
            }
            Hello hello;
            try {
                hello = Frames.decode(frame).getHello();
            } catch (InvalidProtocolBufferException e) {
                refuseAndClose(ctx, Error.Code.BAD_REQUEST, "malformed Hello: " + e.getMessage());
                return;
            }
            if (hello.getVersion() != Frames.VERSION) {
                refuseAndClose(ctx, Error.Code.UNSUPPORTED_VERSION, "protocol version " + hello.getVersion()
                        + " is not supported; this harness speaks version " + Frames.VERSION);
                return;
            }
            Frame welcome = relay.componentConnected(ctx.channel());
            if (welcome == null) {
                refuseAndClose(ctx, Error.Code.BAD_REQUEST, "the component is already connected on another connection");
                return;
            }
            welcomed = true;
            ctx.writeAndFlush(Frames.encode(ctx.alloc(), welcome.toBuilder().setCorrelation(header.correlation).build()));
            log.info("component connected to the local channel (agent \"{}\")", hello.getAgent());
        } finally {
            frame.release();
        }
    }

    private void reply(ChannelHandlerContext ctx, Frame frame) {
        ctx.write(Frames.encode(ctx.alloc(), frame), ctx.voidPromise());
    }

    private void refuseAndClose(ChannelHandlerContext ctx, Error.Code code, String message) {
        if (refused) {
            return;
        }
        refused = true;
        log.warn("local channel refused: {} {}", code, message);
        ctx.writeAndFlush(Frames.encode(ctx.alloc(), Frames.error(header.correlation, code, message)))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // One flush per read batch on both sides: what was relayed to the hub, and any errors answered here.
        relay.flushHub();
        ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        relay.localWritable(ctx.channel());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (welcomed) {
            log.info("component closed the local channel");
        }
        relay.componentLost(ctx.channel());
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (cause instanceof TooLongFrameException || c instanceof TooLongFrameException) {
            // The stream cannot be resynchronised past a frame we refuse to read: say why and close.
            header.correlation = 0; // the oversized frame's correlation was never read
            refuseAndClose(ctx, Error.Code.TOO_LARGE, "frame exceeds the limit of " + maxFrame + " bytes");
        } else {
            log.warn("local channel failed: {}", c.toString());
            ctx.close();
        }
    }
}
