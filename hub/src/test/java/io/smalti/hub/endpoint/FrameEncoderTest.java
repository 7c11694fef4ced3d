package io.smalti.hub.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Reply;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Target;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hub's frame encoding on the wire: a 4-byte big-endian length, then the protobuf bytes (docs/protocol.md §2, §14). */
class FrameEncoderTest {

    private static byte[] encode(Frame f) {
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
        ch.writeOutbound(f);
        ByteBuf buf = ch.readOutbound();
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void theWorkedExampleOfTheProtocolEncodesToItsBytes() {
        Frame answer = Frame.newBuilder().setCorrelation(7).setReply(Reply.newBuilder()
                .addResults(Result.newBuilder().setOutputs(ByteString.copyFromUtf8("hi")))).build();
        assertEquals("0000000b0807b20106" + "0a04120268" + "69", ByteBufUtil.hexDump(encode(answer)));
    }

    @Test
    void anEmptyFrameIsAZeroLength() {
        assertArrayEquals(new byte[4], encode(Frame.getDefaultInstance()));
    }

    @Test
    void framesOfAnySizeComeBackThroughTheHubsDecoder() throws Exception {
        List<Frame> frames = List.of(
                Frame.newBuilder().setCorrelation(1).build(),
                Frame.newBuilder().setCorrelation(Long.MAX_VALUE).setTimeoutMs(-1).build(),
                Frame.newBuilder().setCorrelation(2).setCall(Call.newBuilder()
                        .setTarget(Target.newBuilder().setGroup("g")).setOperation("op")
                        .setInputs(ByteString.copyFrom(new byte[300_000]))).build());
        EmbeddedChannel out = new EmbeddedChannel(FrameEncoder.INSTANCE);
        EmbeddedChannel in = new EmbeddedChannel(new LengthFieldBasedFrameDecoder(1 << 20, 0, 4, 0, 4));
        frames.forEach(out::writeOutbound);
        ByteBuf b;
        while ((b = out.readOutbound()) != null) {
            in.writeInbound(b);
        }
        for (Frame f : frames) {
            ByteBuf one = in.readInbound();
            assertEquals(f, Frame.parseFrom(ByteBufUtil.getBytes(one)));
            one.release();
        }
        out.finishAndReleaseAll();
        in.finishAndReleaseAll();
    }
}
