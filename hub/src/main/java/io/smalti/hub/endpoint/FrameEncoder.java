package io.smalti.hub.endpoint;

import com.google.protobuf.CodedOutputStream;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.smalti.protocol.hub.Frame;
import java.nio.ByteBuffer;

/** Writes a {@link Frame} as a 4-byte big-endian length and its bytes, in one buffer. Stateless; shared. */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToByteEncoder<Frame> {
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Frame msg, boolean preferDirect) {
        return ctx.alloc().ioBuffer(4 + msg.getSerializedSize());
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) throws Exception {
        int size = frame.getSerializedSize();
        out.writeInt(size);
        ByteBuffer nio = out.nioBuffer(out.writerIndex(), size);
        CodedOutputStream cos = CodedOutputStream.newInstance(nio);
        frame.writeTo(cos);
        cos.flush();
        out.writerIndex(out.writerIndex() + size);
    }
}
