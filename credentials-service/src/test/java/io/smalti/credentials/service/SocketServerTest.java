package io.smalti.credentials.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.credentials.vault.Caller;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.VaultAudit;
import io.smalti.protocol.credentials.VaultHmac;
import java.io.ByteArrayOutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The socket's framing on one thread: pipelined requests, a frame larger than its buffer, an answer larger than the socket's. */
@org.junit.jupiter.api.Timeout(60)
class SocketServerTest {
    private static final Caller ALICE = Caller.operator("alice");
    private static final Caller BILLING = Caller.component("c1", "n1", "billing");

    private Path dir;
    private SocketServer server;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "sms");
        server = SocketServer.start(dir.resolve("run/c.sock"), VaultRequestsTest.service(dir));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static byte[] frame(CredentialsRequest r) {
        byte[] b = r.toByteArray();
        return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
    }

    private static CredentialsRequest hmac(Caller c, byte[] data) {
        return CredentialsRequest.newBuilder().setVaultHmac(VaultHmac.newBuilder().setCaller(c.proto()).setName("mac")
                .setAlgorithm(HmacAlgorithm.HMAC_SHA256).setData(ByteString.copyFrom(data))).build();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderAndALargeFrameArrivesWhole() throws Exception {
        try (CredentialsClient admin = new CredentialsClient(server.path())) {
            admin.generate(ALICE, "mac", CredentialKind.HMAC_KEY, false);
        }
        byte[] big = new byte[900_000];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(frame(hmac(ALICE, new byte[1]))); // denied: no rule
        out.write(frame(CredentialsRequest.newBuilder().setVaultAudit(VaultAudit.newBuilder().setCaller(ALICE.proto())
                .setLatest(1)).build()));
        out.write(frame(hmac(BILLING, big))); // denied too, after its 900 kB arrived
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
            ByteBuffer all = ByteBuffer.wrap(out.toByteArray());
            while (all.hasRemaining()) {
                c.write(all);
            }
            Framing.Reader reader = new Framing.Reader();
            CredentialsResponse first = CredentialsResponse.parseFrom(reader.read(c));
            CredentialsResponse second = CredentialsResponse.parseFrom(reader.read(c));
            CredentialsResponse third = CredentialsResponse.parseFrom(reader.read(c));
            assertEquals(Refusal.Code.DENIED, first.getRefusal().getCode());
            assertEquals("alice", second.getAudit().getEvents(0).getCaller().getUid(), "the audit saw the first request");
            assertEquals(Refusal.Code.DENIED, third.getRefusal().getCode());
            assertTrue(third.getRefusal().getMessage().contains("c1"), third.getRefusal().getMessage());
        }
    }

    @Test
    void anAnswerLargerThanTheSocketBufferReachesAReaderThatIsSlowWhileOthersAreServed() throws Exception {
        try (CredentialsClient admin = new CredentialsClient(server.path());
                SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
            admin.generate(ALICE, "mac", CredentialKind.HMAC_KEY, false);
            Framing.Reader reader = new Framing.Reader();
            // Each refusal adds an audit event of about 600 bytes: long names, and the reason repeats them.
            Caller longNames = Caller.component("c".repeat(120), "n".repeat(120), "t".repeat(120));
            for (int i = 0; i < 1000; i++) {
                Framing.write(c, hmac(longNames, new byte[1]).toByteArray());
                assertEquals(Refusal.Code.DENIED, CredentialsResponse.parseFrom(reader.read(c)).getRefusal().getCode());
            }
        }
        try (SocketChannel slow = SocketChannel.open(UnixDomainSocketAddress.of(server.path()));
                CredentialsClient other = new CredentialsClient(server.path())) {
            ByteBuffer request = ByteBuffer.wrap(frame(CredentialsRequest.newBuilder().setVaultAudit(VaultAudit.newBuilder()
                    .setCaller(ALICE.proto()).setLatest(1000)).build()));
            while (request.hasRemaining()) {
                slow.write(request);
            }
            Thread.sleep(200); // the answer does not fit in the socket: the service must not wait for this reader
            assertEquals(1, other.list(ALICE, "").size(), "another connection is answered meanwhile");
            CredentialsResponse audit = CredentialsResponse.parseFrom(new Framing.Reader().read(slow));
            assertEquals(1000, audit.getAudit().getEventsCount());
            assertTrue(audit.getSerializedSize() > 3 * 212_992, "larger than the socket's buffer (208 KiB): " + audit.getSerializedSize());
        }
    }
}
