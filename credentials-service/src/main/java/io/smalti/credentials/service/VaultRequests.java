package io.smalti.credentials.service;

import com.google.protobuf.ByteString;
import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.vault.Audit;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.Policy;
import io.smalti.credentials.vault.Rule;
import io.smalti.credentials.vault.SigV4;
import io.smalti.credentials.vault.Vault;
import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.AuditEvents;
import io.smalti.protocol.credentials.AuthorizationHeader;
import io.smalti.protocol.credentials.AwsSigned;
import io.smalti.protocol.credentials.CredentialList;
import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.HttpField;
import io.smalti.protocol.credentials.PolicyRule;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.VaultAwsSign;
import io.smalti.protocol.credentials.VaultCaller;
import io.smalti.protocol.credentials.VaultDeleted;
import io.smalti.protocol.credentials.VaultMac;
import io.smalti.protocol.credentials.VaultOperation;
import io.smalti.protocol.credentials.VaultPolicy;
import io.smalti.protocol.credentials.VaultPut;
import io.smalti.protocol.credentials.VaultSignature;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vault's requests, one stage: who asks ({@link Caller}), whether the {@link Policy} lets them, the operation
 * on the {@link Vault}, and an {@link Audit} event for each use and each refusal, written before the answer leaves.
 * No answer carries a confidential part (but an Authorization header's, which is that part by definition). Not
 * thread-safe: its one owner is the service's request thread, like {@link CredentialsService}'s.
 */
final class VaultRequests {
    private static final Logger LOG = LoggerFactory.getLogger(VaultRequests.class);

    private final Vault vault;
    private final Audit audit;
    private final Clock clock;

    VaultRequests(Vault vault, Audit audit, Clock clock) {
        this.vault = vault;
        this.audit = audit;
        this.clock = clock;
    }

    /** What an operation answered, and the input its audit event describes (null: none). */
    private record Done(CredentialsResponse response, byte[] input) {
    }

    /** Answers a vault request (a body from vault_put on); a bad or refused one with a refusal, never thrown. */
    CredentialsResponse handle(CredentialsRequest r) {
        return switch (r.getBodyCase()) {
            case VAULT_PUT -> run(r.getVaultPut().getCaller(), VaultOperation.PUT, r.getVaultPut().getName(),
                    c -> put(r.getVaultPut()));
            case VAULT_LIST -> run(r.getVaultList().getCaller(), VaultOperation.LIST, r.getVaultList().getPrefix() + "*",
                    c -> done(CredentialsResponse.newBuilder().setCredentials(CredentialList.newBuilder()
                            .addAllCredentials(vault.list(r.getVaultList().getPrefix())))));
            case VAULT_DELETE -> run(r.getVaultDelete().getCaller(), VaultOperation.DELETE, r.getVaultDelete().getName(),
                    c -> done(CredentialsResponse.newBuilder().setDeleted(VaultDeleted.newBuilder()
                            .setExisted(vault.delete(r.getVaultDelete().getName())))));
            case VAULT_HMAC -> run(r.getVaultHmac().getCaller(), VaultOperation.HMAC, r.getVaultHmac().getName(), c -> {
                byte[] data = r.getVaultHmac().getData().toByteArray();
                byte[] mac = vault.hmac(r.getVaultHmac().getName(), r.getVaultHmac().getAlgorithm(), data);
                return new Done(CredentialsResponse.newBuilder().setMac(VaultMac.newBuilder()
                        .setMac(ByteString.copyFrom(mac))).build(), data);
            });
            case VAULT_SIGN -> run(r.getVaultSign().getCaller(), VaultOperation.SIGN, r.getVaultSign().getName(), c -> {
                byte[] data = r.getVaultSign().getData().toByteArray();
                Vault.Signed s = vault.sign(r.getVaultSign().getName(), data);
                return new Done(CredentialsResponse.newBuilder().setSignature(VaultSignature.newBuilder()
                        .setSignature(ByteString.copyFrom(s.signature())).setAlgorithm(s.algorithm())
                        .setPublicKey(ByteString.copyFrom(s.publicKey()))).build(), data);
            });
            case VAULT_PUBLIC_KEY -> run(r.getVaultPublicKey().getCaller(), VaultOperation.PUBLIC_KEY,
                    r.getVaultPublicKey().getName(), c -> publicKey(r.getVaultPublicKey().getName()));
            case VAULT_AWS_SIGN -> run(r.getVaultAwsSign().getCaller(), VaultOperation.AWS_SIGV4,
                    r.getVaultAwsSign().getName(), c -> awsSign(r.getVaultAwsSign()));
            case VAULT_AUTHORIZATION -> run(r.getVaultAuthorization().getCaller(), VaultOperation.AUTHORIZATION_HEADER,
                    r.getVaultAuthorization().getName(), c -> done(CredentialsResponse.newBuilder().setAuthorization(
                            AuthorizationHeader.newBuilder().setValue(vault.authorization(r.getVaultAuthorization().getName())))));
            case VAULT_SET_POLICY -> run(r.getVaultSetPolicy().getCaller(), VaultOperation.SET_POLICY, "", c -> {
                List<Rule> rules = new ArrayList<>();
                for (PolicyRule p : r.getVaultSetPolicy().getRulesList()) {
                    rules.add(Rule.of(p));
                }
                vault.setPolicy(new Policy(rules));
                LOG.info("{} set the vault policy ({} rules)", c, rules.size());
                return policy();
            });
            case VAULT_GET_POLICY -> run(r.getVaultGetPolicy().getCaller(), VaultOperation.GET_POLICY, "", c -> policy());
            case VAULT_AUDIT -> run(r.getVaultAudit().getCaller(), VaultOperation.AUDIT, "", c -> done(
                    CredentialsResponse.newBuilder().setAudit(AuditEvents.newBuilder()
                            .addAllEvents(audit.latest(r.getVaultAudit().getLatest())))));
            default -> throw new IllegalArgumentException("not a vault request: " + r.getBodyCase());
        };
    }

    private CredentialsResponse run(VaultCaller who, VaultOperation op, String credential,
            Function<Caller, Done> action) {
        Caller caller;
        try {
            caller = Caller.of(who);
        } catch (IllegalArgumentException e) {
            // Nobody to hold to account: the node agent sent a bad request. Logged, not audited.
            LOG.warn("Refused a vault {} of '{}' with a bad caller: {}", op, credential, e.getMessage());
            return refuse(Refusal.Code.BAD_REQUEST, "caller: " + e.getMessage());
        }
        AuditEvent.Builder event = AuditEvent.newBuilder().setTimeMs(clock.millis())
                .setCaller(io.smalti.protocol.credentials.Identity.newBuilder().setSubsystem(caller.identity().subsystem())
                        .setUid(caller.identity().uid()).setNode(caller.identity().node()))
                .setComponentType(caller.componentType()).setOperation(op).setCredential(credential);
        if (!vault.policy().allows(caller, op, credential)) {
            String why = Policy.OPERATOR_ONLY.contains(op) ? "only operators may " + op
                    : "no rule lets " + caller + " run " + op + " on '" + credential + "'";
            audit.record(event.setOutcome(AuditEvent.Outcome.DENIED).setReason(why).build());
            LOG.warn("Vault: denied {}", why);
            return refuse(Refusal.Code.DENIED, why);
        }
        Done done;
        try {
            done = action.apply(caller);
        } catch (Vault.NotFound e) {
            return failed(event, Refusal.Code.NOT_FOUND, e.getMessage());
        } catch (IllegalArgumentException e) {
            return failed(event, Refusal.Code.BAD_REQUEST, e.getMessage());
        } catch (CredentialsException e) {
            LOG.error("Vault {} of '{}' for {} failed: {}", op, credential, caller, e.getMessage());
            return failed(event, Refusal.Code.INTERNAL, e.getMessage());
        }
        if (done.input() != null) {
            event.setInputLength(done.input().length).setInputSha256(Audit.hash(done.input()));
        }
        audit.record(event.setOutcome(AuditEvent.Outcome.ALLOWED).build());
        return done.response();
    }

    private CredentialsResponse failed(AuditEvent.Builder event, Refusal.Code code, String why) {
        audit.record(event.setOutcome(AuditEvent.Outcome.FAILED).setReason(why).build());
        return refuse(code, why);
    }

    private Done put(VaultPut p) {
        io.smalti.protocol.credentials.CredentialInfo info = vault.put(p.getName(), p.getKind(), p.getShareable(),
                p.getConfidential().toByteArray(), p.getGenerate(), p.getReplace());
        LOG.info("Vault: stored {} '{}'", info.getKind(), info.getName());
        return done(CredentialsResponse.newBuilder().setCredential(info));
    }

    private Done publicKey(String name) {
        io.smalti.protocol.credentials.CredentialInfo info = vault.info(name);
        if (info.getPublicKey().isEmpty()) {
            throw new IllegalArgumentException("credential '" + name + "' is a " + info.getKind() + ", which has no public key");
        }
        return done(CredentialsResponse.newBuilder().setCredential(info));
    }

    private Done awsSign(VaultAwsSign a) {
        List<SigV4.Field> query = new ArrayList<>();
        a.getQueryList().forEach(f -> query.add(new SigV4.Field(f.getName(), f.getValue())));
        List<SigV4.Field> headers = new ArrayList<>();
        a.getHeadersList().forEach(f -> headers.add(new SigV4.Field(f.getName(), f.getValue())));
        String payload = switch (a.getPayloadHashCase()) {
            case PAYLOAD -> SigV4.payloadHash(a.getPayload().toByteArray());
            case PAYLOAD_SHA256 -> a.getPayloadSha256();
            case PAYLOADHASH_NOT_SET -> SigV4.EMPTY_SHA256;
        };
        Instant time = a.getTimeMs() == 0 ? clock.instant() : Instant.ofEpochMilli(a.getTimeMs());
        SigV4.Signed s = vault.awsSign(a.getName(), new SigV4.Request(a.getMethod(), a.getHost(), a.getPath(), query,
                headers, payload, a.getRegion(), a.getService(), time, a.getNormalizePath(), a.getContentSha256Header()));
        AwsSigned.Builder b = AwsSigned.newBuilder().setAuthorization(s.authorization()).setSignedHeaders(s.signedHeaders());
        s.headersToAdd().forEach(h -> b.addHeaders(HttpField.newBuilder().setName(h.name()).setValue(h.value())));
        // What AWS verifies is the canonical request: the audit keeps its length and hash (the string to sign holds that hash too).
        return new Done(CredentialsResponse.newBuilder().setAwsSigned(b).build(),
                s.canonicalRequest().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private Done policy() {
        VaultPolicy.Builder b = VaultPolicy.newBuilder();
        vault.policy().rules().forEach(r -> b.addRules(r.proto()));
        return done(CredentialsResponse.newBuilder().setPolicy(b));
    }

    private static Done done(CredentialsResponse.Builder b) {
        return new Done(b.build(), null);
    }

    private static CredentialsResponse refuse(Refusal.Code code, String message) {
        return CredentialsResponse.newBuilder().setRefusal(Refusal.newBuilder().setCode(code)
                .setMessage(message == null ? code.name() : message)).build();
    }
}
