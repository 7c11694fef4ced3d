package io.smalti.harness;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Encoding and decoding of length-prefixed frames for the harness's own (rare) frames. Stateless. */
final class Frames {
    /** The protocol version this harness speaks. */
    static final int VERSION = 1;

    private Frames() {
    }

    /** Encodes {@code frame} with its 4-byte big-endian length prefix. */
    static ByteBuf encode(ByteBufAllocator alloc, Frame frame) {
        int size = frame.getSerializedSize();
        ByteBuf buf = alloc.buffer(4 + size);
        buf.writeInt(size);
        try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
            CodedOutputStream cos = CodedOutputStream.newInstance(out, Math.max(1, Math.min(size, 4096)));
            frame.writeTo(cos);
            cos.flush();
        } catch (IOException e) {
            buf.release();
            throw new UncheckedIOException(e);
        }
        return buf;
    }

    /** Decodes a length-prefixed frame without moving its reader index. */
    static Frame decode(ByteBuf frame) throws InvalidProtocolBufferException {
        return Frame.parseFrom(frame.nioBuffer(frame.readerIndex() + 4, frame.readableBytes() - 4));
    }

    static Frame error(long correlation, Error.Code code, String message) {
        return Frame.newBuilder()
                .setCorrelation(correlation)
                .setError(Error.newBuilder().setCode(code).setMessage(message))
                .build();
    }
}
