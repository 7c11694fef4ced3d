package io.smalti.credentials.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Revocations;
import io.smalti.credentials.vault.Audit;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.Rule;
import io.smalti.credentials.vault.Vault;
import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.HttpField;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.VaultAudit;
import io.smalti.protocol.credentials.VaultAuthorization;
import io.smalti.protocol.credentials.VaultAwsSign;
import io.smalti.protocol.credentials.VaultDelete;
import io.smalti.protocol.credentials.VaultGetPolicy;
import io.smalti.protocol.credentials.VaultHmac;
import io.smalti.protocol.credentials.VaultList;
import io.smalti.protocol.credentials.VaultOperation;
import io.smalti.protocol.credentials.VaultPublicKey;
import io.smalti.protocol.credentials.VaultPut;
import io.smalti.protocol.credentials.VaultSetPolicy;
import io.smalti.protocol.credentials.VaultSign;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vault's requests through the service, as the socket hands them over: policy, audit, and what answers hold. */
class VaultRequestsTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
    private static final Caller ALICE = Caller.operator("alice");
    private static final Caller BILLING = Caller.component("c1", "n1", "billing");
    private static final Caller SHOP = Caller.component("c2", "n1", "shop");

    @TempDir
    Path dir;
    private CredentialsService service;

    @BeforeEach
    void start() {
        service = service(dir);
    }

    static CredentialsService service(Path dir) {
        MasterKey master = MasterKey.create(dir, "correct horse battery staple".getBytes(StandardCharsets.US_ASCII));
        ClusterCa ca = ClusterCa.create(dir, master, "test", KeyAlgorithm.EC, CLOCK.instant());
        return new CredentialsService(ca, new OneTimeTokens(Duration.ofSeconds(60), 100), new Revocations(dir, CLOCK.instant()),
                Vault.open(dir, master, CLOCK), new Audit(dir, 1 << 20), Duration.ofHours(1), CLOCK);
    }

    private CredentialsResponse put(Caller c, String name, CredentialKind kind, String shareable, String secret) {
        return service.handle(CredentialsRequest.newBuilder().setVaultPut(VaultPut.newBuilder().setCaller(c.proto())
                .setName(name).setKind(kind).setShareable(shareable).setConfidential(ByteString.copyFromUtf8(secret))).build());
    }

    private CredentialsResponse hmac(Caller c, String name, String data) {
        return service.handle(CredentialsRequest.newBuilder().setVaultHmac(VaultHmac.newBuilder().setCaller(c.proto())
                .setName(name).setAlgorithm(HmacAlgorithm.HMAC_SHA256).setData(ByteString.copyFromUtf8(data))).build());
    }

    private List<AuditEvent> audit(int n) {
        return service.handle(CredentialsRequest.newBuilder().setVaultAudit(VaultAudit.newBuilder()
                .setCaller(ALICE.proto()).setLatest(n)).build()).getAudit().getEventsList();
    }

    private CredentialsResponse setPolicy(Caller c, Rule... rules) {
        VaultSetPolicy.Builder b = VaultSetPolicy.newBuilder().setCaller(c.proto());
        for (Rule r : rules) {
            b.addRules(r.proto());
        }
        return service.handle(CredentialsRequest.newBuilder().setVaultSetPolicy(b).build());
    }

    @Test
    void aDeniedRequestIsRefusedAndAuditedAndAGrantedOneAuditedWithoutItsInput() {
        assertFalse(put(ALICE, "payments/stripe", CredentialKind.HMAC_KEY, "", "k-0123456789").hasRefusal());

        CredentialsResponse denied = hmac(BILLING, "payments/stripe", "order 42: 10.00 EUR");
        assertEquals(Refusal.Code.DENIED, denied.getRefusal().getCode());
        assertTrue(denied.getRefusal().getMessage().contains("no rule lets harness c1@n1 (type billing) run HMAC"),
                denied.getRefusal().getMessage());
        CredentialsResponse componentPut = put(BILLING, "payments/mine", CredentialKind.BEARER, "", "t");
        assertEquals(Refusal.Code.DENIED, componentPut.getRefusal().getCode());
        assertEquals(Refusal.Code.DENIED, setPolicy(BILLING, new Rule(new Rule.OfType("billing"), Set.of(VaultOperation.HMAC),
                "*")).getRefusal().getCode());

        assertFalse(setPolicy(ALICE, new Rule(new Rule.OfType("billing"), Set.of(VaultOperation.HMAC), "payments/*"))
                .hasRefusal());
        byte[] mac = hmac(BILLING, "payments/stripe", "order 42: 10.00 EUR").getMac().getMac().toByteArray();
        assertEquals(32, mac.length);
        assertEquals(Refusal.Code.DENIED, hmac(SHOP, "payments/stripe", "order 42").getRefusal().getCode());
        assertEquals(Refusal.Code.NOT_FOUND, hmac(BILLING, "payments/other", "x").getRefusal().getCode());

        List<AuditEvent> events = audit(100);
        List<String> summary = new ArrayList<>();
        for (AuditEvent e : events) {
            summary.add(e.getCaller().getUid() + " " + e.getOperation() + " " + e.getCredential() + " " + e.getOutcome());
        }
        assertEquals(List.of("alice PUT payments/stripe ALLOWED", "c1 HMAC payments/stripe DENIED",
                "c1 PUT payments/mine DENIED", "c1 SET_POLICY  DENIED", "alice SET_POLICY  ALLOWED",
                "c1 HMAC payments/stripe ALLOWED", "c2 HMAC payments/stripe DENIED", "c1 HMAC payments/other FAILED"), summary);
        AuditEvent used = events.get(5);
        assertEquals("billing", used.getComponentType());
        assertEquals(CLOCK.millis(), used.getTimeMs());
        assertEquals("order 42: 10.00 EUR".length(), used.getInputLength());
        assertEquals(HexFormat.of().formatHex(sha256("order 42: 10.00 EUR")), used.getInputSha256());
        assertTrue(events.get(1).getReason().contains("no rule lets"), events.get(1).getReason());
        assertTrue(events.get(2).getReason().contains("only operators may PUT"), events.get(2).getReason());
        assertTrue(events.get(7).getReason().contains("no credential named 'payments/other'"), events.get(7).getReason());
        // Reading the audit is audited too, and only for operators.
        assertEquals(Refusal.Code.DENIED, service.handle(CredentialsRequest.newBuilder().setVaultAudit(VaultAudit.newBuilder()
                .setCaller(BILLING.proto()).setLatest(10)).build()).getRefusal().getCode());
        AuditEvent last = last();
        assertEquals("c1 AUDIT  DENIED", last.getCaller().getUid() + " " + last.getOperation() + " "
                + last.getCredential() + " " + last.getOutcome());
    }

    private AuditEvent last() {
        List<AuditEvent> e = audit(2); // (its own event is written after it answers)
        return e.get(e.size() - 1);
    }

    @Test
    void noAnswerCarriesAConfidentialPartInAnyForm() {
        String hmacKey = "hmac-key-SECRET-0123456789";
        String awsSecret = "aws-SECRET-wJalrXUtnFEMI/K7MDENG+bPxRf";
        String password = "password-SECRET-sesame";
        String token = "bearer-SECRET-token";
        List<CredentialsResponse> answers = new ArrayList<>();
        answers.add(put(ALICE, "mac", CredentialKind.HMAC_KEY, "", hmacKey));
        answers.add(put(ALICE, "aws", CredentialKind.AWS_ACCESS_KEY, "AKIDEXAMPLE", awsSecret));
        answers.add(put(ALICE, "web", CredentialKind.BASIC, "Aladdin", password));
        answers.add(put(ALICE, "api", CredentialKind.BEARER, "", token));
        CredentialsResponse ed = service.handle(CredentialsRequest.newBuilder().setVaultPut(VaultPut.newBuilder()
                .setCaller(ALICE.proto()).setName("ed").setKind(CredentialKind.ED25519_KEY).setGenerate(true)).build());
        answers.add(ed);
        answers.add(put(ALICE, "mac", CredentialKind.HMAC_KEY, "", hmacKey)); // refused: exists
        answers.add(setPolicy(ALICE, new Rule(new Rule.OfType("billing"), Set.of(VaultOperation.HMAC, VaultOperation.SIGN,
                VaultOperation.AWS_SIGV4, VaultOperation.PUBLIC_KEY, VaultOperation.AUTHORIZATION_HEADER), "*")));
        answers.add(hmac(BILLING, "mac", "data"));
        answers.add(hmac(BILLING, "aws", "data")); // refused: wrong kind
        answers.add(hmac(SHOP, "mac", "data")); // refused: denied
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultSign(VaultSign.newBuilder()
                .setCaller(BILLING.proto()).setName("ed").setData(ByteString.copyFromUtf8("data"))).build()));
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultSign(VaultSign.newBuilder()
                .setCaller(BILLING.proto()).setName("api").setData(ByteString.copyFromUtf8("data"))).build()));
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultPublicKey(VaultPublicKey.newBuilder()
                .setCaller(BILLING.proto()).setName("ed")).build()));
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultPublicKey(VaultPublicKey.newBuilder()
                .setCaller(BILLING.proto()).setName("aws")).build()));
        CredentialsResponse aws = service.handle(CredentialsRequest.newBuilder().setVaultAwsSign(VaultAwsSign.newBuilder()
                .setCaller(BILLING.proto()).setName("aws").setMethod("GET").setHost("example.amazonaws.com").setPath("/")
                .addQuery(HttpField.newBuilder().setName("Param1").setValue("value1")).setRegion("us-east-1")
                .setService("service").setTimeMs(Instant.parse("2015-08-30T12:36:00Z").toEpochMilli())).build());
        answers.add(aws);
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultAwsSign(VaultAwsSign.newBuilder()
                .setCaller(BILLING.proto()).setName("aws").setMethod("get").setPath("/")).build())); // refused: bad method
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultList(VaultList.newBuilder()
                .setCaller(ALICE.proto())).build()));
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultGetPolicy(VaultGetPolicy.newBuilder()
                .setCaller(ALICE.proto())).build()));
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultAudit(VaultAudit.newBuilder()
                .setCaller(ALICE.proto()).setLatest(1000)).build()));
        answers.add(service.handle(CredentialsRequest.newBuilder().setVaultDelete(VaultDelete.newBuilder()
                .setCaller(ALICE.proto()).setName("mac")).build()));

        assertEquals("AKIDEXAMPLE", answers.get(1).getCredential().getShareable());
        assertEquals("Aladdin", answers.get(2).getCredential().getShareable());
        assertEquals(32, ed.getCredential().getPublicKey().size() - 12, "an Ed25519 SubjectPublicKeyInfo");
        assertTrue(aws.getAwsSigned().getAuthorization().startsWith(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date"));
        assertEquals(List.of("X-Amz-Date", "Authorization"), aws.getAwsSigned().getHeadersList().stream()
                .map(HttpField::getName).toList());
        assertEquals(6, answers.stream().filter(CredentialsResponse::hasRefusal).count(), answers.toString());
        List<byte[]> forms = new ArrayList<>();
        for (String s : List.of(hmacKey, awsSecret, password, token, "SECRET")) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            forms.add(b);
            forms.add(Base64.getEncoder().encode(b));
            forms.add(HexFormat.of().formatHex(b).getBytes(StandardCharsets.US_ASCII));
        }
        for (CredentialsResponse a : answers) {
            byte[] bytes = a.toByteArray();
            for (byte[] f : forms) {
                assertFalse(contains(bytes, f),
                        "an answer holds a secret: " + a);
            }
        }
        // The one exception, by definition: an Authorization header is the secret, for whom the policy lets send it.
        assertEquals("Bearer " + token, service.handle(CredentialsRequest.newBuilder().setVaultAuthorization(
                VaultAuthorization.newBuilder().setCaller(BILLING.proto()).setName("api")).build()).getAuthorization().getValue());
        assertEquals("Basic " + Base64.getEncoder().encodeToString(("Aladdin:" + password).getBytes(StandardCharsets.UTF_8)),
                service.handle(CredentialsRequest.newBuilder().setVaultAuthorization(VaultAuthorization.newBuilder()
                        .setCaller(BILLING.proto()).setName("web")).build()).getAuthorization().getValue());
    }

    @Test
    void aRequestWithoutACallerIsABadRequest() {
        CredentialsResponse r = service.handle(CredentialsRequest.newBuilder().setVaultHmac(VaultHmac.newBuilder()
                .setName("mac")).build());
        assertEquals(Refusal.Code.BAD_REQUEST, r.getRefusal().getCode());
        assertTrue(r.getRefusal().getMessage().contains("names no caller"), r.getRefusal().getMessage());
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
