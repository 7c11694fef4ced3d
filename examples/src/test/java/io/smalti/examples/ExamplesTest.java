package io.smalti.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.smalti.examples.echo.Echo;
import io.smalti.examples.pingpong.PingPong;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Result;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(20)
class ExamplesTest {
    @TempDir
    Path dir;

    private static Result call(LocalChannelFake fake, long correlation, String operation, String inputs) throws Exception {
        fake.write(Frame.newBuilder().setCorrelation(correlation).setTimeoutMs(5000)
                .setCall(Call.newBuilder().setOperation(operation).setInputs(ByteString.copyFromUtf8(inputs))).build());
        return fake.next(f -> f.getCorrelation() == correlation && f.hasReply()).getReply().getResults(0);
    }

    @Test
    void echoAnswersEchoCountWhoamiAndRefusesTheRest() throws Exception {
        try (LocalChannelFake fake = new LocalChannelFake(dir, new Echo())) {
            assertEquals("ping", call(fake, 1, "echo", "ping").getOutputs().toStringUtf8());
            assertEquals("{\"count\":1,\"component\":\"" + LocalChannelFake.ID + "\"}",
                    call(fake, 2, "count", "").getOutputs().toStringUtf8());
            assertEquals("{\"count\":2,\"component\":\"" + LocalChannelFake.ID + "\"}",
                    call(fake, 3, "count", "").getOutputs().toStringUtf8());
            assertEquals("{\"component\":\"" + LocalChannelFake.ID + "\",\"node\":\"n1\"}",
                    call(fake, 4, "whoami", "").getOutputs().toStringUtf8());
            Result unknown = call(fake, 5, "nope", "");
            assertEquals(Error.Code.FAILED, unknown.getError().getCode());
            assertEquals("unknown operation nope", unknown.getError().getMessage());
        }
    }

    @Test
    void pingPongReturnsTheBallAndCountsIt() throws Exception {
        try (LocalChannelFake fake = new LocalChannelFake(dir, new PingPong("pong", 60_000))) {
            assertEquals("{\"n\":5}", call(fake, 1, "ball", "{\"n\":4}").getOutputs().toStringUtf8());
            assertEquals("{\"role\":\"pong\",\"sent\":0,\"received\":1,\"answered\":0,\"lastRoundTripMicros\":-1}",
                    call(fake, 2, "stats", "").getOutputs().toStringUtf8());
            assertEquals(Error.Code.BAD_REQUEST, call(fake, 3, "ball", "nothing").getError().getCode());
        }
    }

    @Test
    void pingPongServesTheOtherGroupOnItsTimer() throws Exception {
        try (LocalChannelFake fake = new LocalChannelFake(dir, new PingPong("ping", 50))) {
            Frame ball = fake.next(Frame::hasCall);
            assertEquals("pong", ball.getCall().getTarget().getGroup());
            assertEquals("ball", ball.getCall().getOperation());
            assertEquals("{\"n\":1}", ball.getCall().getInputs().toStringUtf8());
            fake.write(Frame.newBuilder().setCorrelation(ball.getCorrelation()).setReply(io.smalti.protocol.hub.Reply.newBuilder()
                    .addResults(Result.newBuilder().setOutputs(ByteString.copyFromUtf8("{\"n\":2}")))).build());
            // The answer is counted: stats eventually shows it.
            String stats = "";
            for (int i = 0; i < 50 && !stats.contains("\"answered\":1"); i++) {
                stats = call(fake, 1000 + i, "stats", "").getOutputs().toStringUtf8();
            }
            assertEquals(true, stats.contains("\"answered\":1"), stats);
        }
    }
}
