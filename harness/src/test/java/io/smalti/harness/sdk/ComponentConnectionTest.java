package io.smalti.harness.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.GroupCount;
import io.smalti.protocol.hub.Membership;
import io.smalti.protocol.hub.Members;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Terminate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(20)
class ComponentConnectionTest {
    private static final String ID = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    Path dir;
    FakeHarness harness;
    ComponentConnection connection;

    @BeforeEach
    void start() throws Exception {
        harness = new FakeHarness(dir);
    }

    @AfterEach
    void stop() throws Exception {
        if (connection != null) {
            connection.close();
        }
        harness.close();
    }

    /** Opens a connection on a background thread (open blocks in the handshake) and answers the handshake. */
    private ComponentConnection open(Component component, int maxFrame) throws Exception {
        CompletableFuture<ComponentConnection> opened = CompletableFuture.supplyAsync(() -> {
            try {
                return ComponentConnection.open(harness.socket, component);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Frame hello = harness.handshake(ID, "n1", maxFrame);
        assertEquals(1, hello.getHello().getVersion());
        connection = opened.get(5, TimeUnit.SECONDS);
        return connection;
    }

    @Test
    void helloWelcomeGivesIdAndNode() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1 << 20).context();
        assertEquals(ID, ctx.id());
        assertEquals("n1", ctx.node());
        assertEquals(1 << 20, ctx.maxFrame());
    }

    @Test
    void callIsAnsweredWithItsCorrelation() throws Exception {
        open(new Component() {
            @Override
            public Response call(Request req) {
                return Response.of(req.operation() + ":" + req.inputsAsString() + " from " + req.caller());
            }
        }, 1 << 20);
        harness.write(Frame.newBuilder().setCorrelation(42).setTimeoutMs(5000)
                .setCall(Call.newBuilder().setOperation("echo").setInputs(ByteString.copyFromUtf8("hi")).setCaller("c1"))
                .build());
        Frame answer = harness.read();
        assertEquals(42, answer.getCorrelation());
        assertEquals("echo:hi from c1", answer.getReply().getResults(0).getOutputs().toStringUtf8());
    }

    @Test
    void failingCallAnswersFailedWithTheMessage() throws Exception {
        open(new Component() {
            @Override
            public Response call(Request req) {
                throw new IllegalStateException("no such thing");
            }
        }, 1 << 20);
        harness.write(Frame.newBuilder().setCorrelation(5).setCall(Call.newBuilder().setOperation("x")).build());
        Result result = harness.read().getReply().getResults(0);
        assertEquals(Error.Code.FAILED, result.getError().getCode());
        assertEquals("no such thing", result.getError().getMessage());
    }

    @Test
    void requestCompletesWithTheAnswer() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1 << 20).context();
        CompletableFuture<Map<String, Integer>> registered = ctx.register("g1", "g2");
        Frame register = harness.read();
        assertEquals(2, register.getRegister().getGroupsCount());
        assertTrue(register.getCorrelation() != 0);
        assertEquals(5000, register.getTimeoutMs());
        harness.write(Frame.newBuilder().setCorrelation(register.getCorrelation()).setMembership(Membership.newBuilder()
                .addGroups(GroupCount.newBuilder().setGroup("g1").setMembers(1))
                .addGroups(GroupCount.newBuilder().setGroup("g2").setMembers(3))).build());
        assertEquals(Map.of("g1", 1, "g2", 3), registered.get(5, TimeUnit.SECONDS));
    }

    @Test
    void errorAnswerFailsTheFutureWithItsCode() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1 << 20).context();
        CompletableFuture<Reply> reply = ctx.call(Target.group("nobody"), "x", new byte[0]);
        Frame call = harness.read();
        harness.write(Frame.newBuilder().setCorrelation(call.getCorrelation())
                .setError(Error.newBuilder().setCode(Error.Code.NO_MEMBERS).setMessage("group nobody is empty")).build());
        ExecutionException e = assertThrows(ExecutionException.class, () -> reply.get(5, TimeUnit.SECONDS));
        HubException h = assertInstanceOf(HubException.class, e.getCause());
        assertEquals(ErrorCode.NO_MEMBERS, h.code());
        assertEquals("group nobody is empty", h.reason());
    }

    @Test
    void requestExpiresAndALateAnswerIsDropped() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1 << 20).context();
        long start = System.nanoTime();
        CompletableFuture<?> selected = ctx.call(Target.component(ID), "", "slow", new byte[0], java.util.List.of(),
                Duration.ofMillis(200));
        Frame call = harness.read();
        assertEquals(200, call.getTimeoutMs());
        ExecutionException e = assertThrows(ExecutionException.class, () -> selected.get(5, TimeUnit.SECONDS));
        assertEquals(ErrorCode.EXPIRED, ((HubException) e.getCause()).code());
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(190));
        // The late answer must not disturb the connection: a following request still works.
        harness.write(Frame.newBuilder().setCorrelation(call.getCorrelation())
                .setMembers(Members.newBuilder().setGroup("late")).build());
        CompletableFuture<java.util.List<String>> next = ctx.select("g", true);
        Frame select = harness.read();
        harness.write(Frame.newBuilder().setCorrelation(select.getCorrelation())
                .setMembers(Members.newBuilder().setGroup("g").addComponents(ID)).build());
        assertEquals(java.util.List.of(ID), next.get(5, TimeUnit.SECONDS));
    }

    @Test
    void oversizedFrameIsRefusedAndNotSent() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1024).context();
        CompletableFuture<Reply> big = ctx.call(Target.group("g"), "x", new byte[2000]);
        ExecutionException e = assertThrows(ExecutionException.class, () -> big.get(5, TimeUnit.SECONDS));
        assertEquals(ErrorCode.TOO_LARGE, ((HubException) e.getCause()).code());
        assertTrue(!ctx.cast(Target.group("g"), "x", new byte[2000]));
        assertTrue(harness.quietFor(200), "nothing may reach the harness");
    }

    @Test
    void terminateCallsTerminateAndClosesTheConnection() throws Exception {
        CountDownLatch terminated = new CountDownLatch(1);
        String[] reason = new String[1];
        ComponentConnection c = open(new Component() {
            @Override
            public void terminate(String why) {
                reason[0] = why;
                terminated.countDown();
            }
        }, 1 << 20);
        harness.write(Frame.newBuilder().setTerminate(Terminate.newBuilder().setReason("bye").setGraceMs(1000)).build());
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        assertEquals("bye", reason[0]);
        assertEquals("terminated: bye", c.closed().get(5, TimeUnit.SECONDS));
        assertTrue(c.terminated());
    }

    @Test
    void manyCastsArriveInOneStream() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1 << 20).context();
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            assertTrue(ctx.cast(Target.group("g"), "c", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < n; i++) {
            assertEquals(Integer.toString(i), harness.read().getCast().getInputs().toStringUtf8());
        }
    }

    @Test
    void closingFailsPendingRequests() throws Exception {
        ComponentContext ctx = open(new Component() { }, 1 << 20).context();
        CompletableFuture<?> pending = ctx.select("g", false);
        harness.read();
        connection.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(5, TimeUnit.SECONDS));
        assertEquals(ErrorCode.UNAVAILABLE, ((HubException) e.getCause()).code());
    }
}
