package io.smalti.credentials.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Revocations;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.credentials.vault.Audit;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.Rule;
import io.smalti.credentials.vault.SigV4;
import io.smalti.credentials.vault.Vault;
import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.VaultOperation;
import io.smalti.protocol.credentials.VaultSignature;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The vault end to end: CredentialsClient, a real Unix-domain socket, SocketServer, the service; and a restart. */
class VaultSocketTest {
    private static final Caller ALICE = Caller.operator("alice");
    private static final Caller BILLING = Caller.component("c1", "n1", "billing");
    private static final byte[] SECRET = "correct horse battery staple".getBytes(StandardCharsets.US_ASCII);

    private Path dir;
    private Path socket;

    @BeforeEach
    void dirs() throws Exception {
        // Under /tmp, not the build directory: a socket's path is at most 107 bytes.
        dir = Files.createTempDirectory(Path.of("/tmp"), "smv");
        socket = dir.resolve("run/c.sock");
    }

    @AfterEach
    void clean() throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private SocketServer start(MasterKey master) throws Exception {
        Clock clock = Clock.systemUTC();
        CredentialsService service = new CredentialsService(ClusterCa.open(dir, master),
                new OneTimeTokens(Duration.ofSeconds(60), 100), new Revocations(dir, clock.instant()),
                Vault.open(dir, master, clock), new Audit(dir, 1 << 20), Duration.ofHours(1), clock);
        return SocketServer.start(socket, service);
    }

    @Test
    void operatorsStoreComponentsUseAndARestartKeepsItAll() throws Exception {
        MasterKey master = MasterKey.create(dir, SECRET);
        ClusterCa.create(dir, master, "test", KeyAlgorithm.EC, Instant.now());
        byte[] data = "2026-01-02T03:04:05Z\nPOST\n/charge".getBytes(StandardCharsets.UTF_8);
        byte[] mac;
        try (SocketServer server = start(master); CredentialsClient client = new CredentialsClient(server.path())) {
            client.generate(ALICE, "payments/mac", CredentialKind.HMAC_KEY, false);
            client.generate(ALICE, "payments/ed", CredentialKind.ED25519_KEY, false);
            client.put(ALICE, "payments/aws", CredentialKind.AWS_ACCESS_KEY, "AKIDEXAMPLE",
                    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".getBytes(StandardCharsets.UTF_8), false);
            CredentialsClient.Refused denied = assertThrows(CredentialsClient.Refused.class,
                    () -> client.hmac(BILLING, "payments/mac", HmacAlgorithm.HMAC_SHA256, data));
            assertEquals(Refusal.Code.DENIED, denied.code);
            List<Rule> rules = client.setPolicy(ALICE, List.of(new Rule(new Rule.OfType("billing"),
                    Set.of(VaultOperation.HMAC, VaultOperation.SIGN, VaultOperation.PUBLIC_KEY, VaultOperation.AWS_SIGV4),
                    "payments/*")));
            assertEquals(1, rules.size());

            mac = client.hmac(BILLING, "payments/mac", HmacAlgorithm.HMAC_SHA256, data);
            assertEquals(64, client.hmac(BILLING, "payments/mac", HmacAlgorithm.HMAC_SHA512, data).length);
            VaultSignature s = client.sign(BILLING, "payments/ed", data);
            PublicKey pub = client.publicKey(BILLING, "payments/ed");
            Signature v = Signature.getInstance(s.getAlgorithm());
            v.initVerify(pub);
            v.update(data);
            assertTrue(v.verify(s.getSignature().toByteArray()), "the Ed25519 signature verifies with its public key");
            String authorization = client.awsSign(BILLING, "payments/aws", new SigV4.Request("GET", "example.amazonaws.com",
                    "/", List.of(new SigV4.Field("Param2", "value2"), new SigV4.Field("Param1", "value1")), List.of(),
                    SigV4.EMPTY_SHA256, "us-east-1", "service", Instant.parse("2015-08-30T12:36:00Z"), true, false))
                    .getAuthorization();
            // get-vanilla-query-order-key-case of AWS's suite.
            assertTrue(authorization.endsWith("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
                    authorization);
            assertEquals(List.of("payments/aws", "payments/ed", "payments/mac"),
                    client.list(ALICE, "payments/").stream().map(c -> c.getName()).toList());
        }
        // A restart: the same directory and master key, a new process's objects, a client that reconnects.
        MasterKey again = MasterKey.open(dir, SECRET);
        try (SocketServer server = start(again); CredentialsClient client = new CredentialsClient(server.path())) {
            assertArrayEquals(mac, client.hmac(BILLING, "payments/mac", HmacAlgorithm.HMAC_SHA256, data));
            assertEquals(3, client.list(ALICE, "").size());
            List<AuditEvent> audit = client.audit(ALICE, 100);
            assertEquals(AuditEvent.Outcome.DENIED, audit.stream().filter(e -> e.getOperation() == VaultOperation.HMAC)
                    .findFirst().orElseThrow().getOutcome());
            AuditEvent lastUse = audit.stream().filter(e -> e.getOperation() == VaultOperation.HMAC)
                    .reduce((a, b) -> b).orElseThrow();
            assertEquals(AuditEvent.Outcome.ALLOWED, lastUse.getOutcome());
            assertEquals(data.length, lastUse.getInputLength());
            assertEquals(Refusal.Code.DENIED, assertThrows(CredentialsClient.Refused.class,
                    () -> client.delete(BILLING, "payments/mac")).code);
            assertTrue(client.delete(ALICE, "payments/mac"));
            assertEquals(Refusal.Code.NOT_FOUND, assertThrows(CredentialsClient.Refused.class,
                    () -> client.hmac(BILLING, "payments/mac", HmacAlgorithm.HMAC_SHA256, data)).code);
        }
    }
}
