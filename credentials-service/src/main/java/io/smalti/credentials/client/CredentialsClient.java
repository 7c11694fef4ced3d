package io.smalti.credentials.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.Pem;
import io.smalti.credentials.service.CredentialsService;
import io.smalti.credentials.service.Framing;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.Rule;
import io.smalti.credentials.vault.SigV4;
import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.AwsSigned;
import io.smalti.protocol.credentials.CredentialInfo;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.HttpField;
import io.smalti.protocol.credentials.VaultAudit;
import io.smalti.protocol.credentials.VaultAuthorization;
import io.smalti.protocol.credentials.VaultAwsSign;
import io.smalti.protocol.credentials.VaultDelete;
import io.smalti.protocol.credentials.VaultGetPolicy;
import io.smalti.protocol.credentials.VaultHmac;
import io.smalti.protocol.credentials.VaultList;
import io.smalti.protocol.credentials.VaultPublicKey;
import io.smalti.protocol.credentials.VaultPut;
import io.smalti.protocol.credentials.VaultSetPolicy;
import io.smalti.protocol.credentials.VaultSign;
import io.smalti.protocol.credentials.VaultSignature;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.GetCrl;
import io.smalti.protocol.credentials.Issue;
import io.smalti.protocol.credentials.MakeToken;
import io.smalti.protocol.credentials.Redeem;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.Revoke;
import java.io.IOException;
import java.math.BigInteger;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The node agent's side of its credentials service: one connection over the service's Unix-domain socket, opened
 * on first use and again after the service restarted. Thread-safe: requests are serialised (the service answers
 * one at a time anyway; an issuance takes about a millisecond).
 */
public final class CredentialsClient implements AutoCloseable {
    /** A certificate and the CA that signed it. */
    public record Issued(X509Certificate certificate, X509Certificate ca) {
    }

    /** A token and its expiry. */
    public record Token(String value, Instant expires) {
    }

    /** The revocation list: its DER form (to serve) and the revoked serials (to check). */
    public record Crl(byte[] der, Set<BigInteger> serials) {
    }

    /** A request the service refused, with its reason. */
    public static final class Refused extends CredentialsException {
        public final Refusal.Code code;

        Refused(Refusal r) {
            super(r.getMessage());
            this.code = r.getCode();
        }
    }

    private final Path socket;
    private SocketChannel channel;
    private Framing.Reader reader;

    public CredentialsClient(Path socket) {
        this.socket = socket;
    }

    public Path socket() {
        return socket;
    }

    /** A certificate for an identity this node vouches for. */
    public Issued issue(Identity identity, PublicKey key, Duration lifetime) {
        return issued(call(CredentialsRequest.newBuilder().setIssue(Issue.newBuilder()
                .setIdentity(CredentialsService.proto(identity)).setPublicKey(ByteString.copyFrom(key.getEncoded()))
                .setLifetimeMs(lifetime == null ? 0 : lifetime.toMillis())).build()));
    }

    /** A one-time token a child redeems for its own certificate. */
    public Token makeToken(Identity identity) {
        CredentialsResponse r = call(CredentialsRequest.newBuilder().setMakeToken(MakeToken.newBuilder()
                .setIdentity(CredentialsService.proto(identity))).build());
        return new Token(r.getToken().getToken(), Instant.ofEpochMilli(r.getToken().getExpiresMs()));
    }

    /**
     * Redeems a child's token, made for a {@code subsystem} identity, for a certificate of its public key (the child's
     * private key stays with it).
     */
    public Issued redeem(String token, byte[] publicKeyDer, String subsystem) {
        return issued(call(CredentialsRequest.newBuilder().setRedeem(Redeem.newBuilder().setToken(token)
                .setPublicKey(ByteString.copyFrom(publicKeyDer)).setSubsystem(subsystem)).build()));
    }

    /** Revokes every certificate of {@code uid}; returns how many. */
    public int revoke(String uid) {
        return call(CredentialsRequest.newBuilder().setRevoke(Revoke.newBuilder().setUid(uid)).build())
                .getRevoked().getCertificates();
    }

    public Crl crl() {
        CredentialsResponse r = call(CredentialsRequest.newBuilder().setGetCrl(GetCrl.getDefaultInstance()).build());
        return new Crl(r.getCrl().getDer().toByteArray(), r.getCrl().getSerialsList().stream()
                .map(b -> new BigInteger(b.toByteArray())).collect(Collectors.toUnmodifiableSet()));
    }

    // ---- The vault: every call names the caller the node agent verified; none returns a confidential part. ----

    /** Stores a credential (operators only); what may be shown of it. */
    public CredentialInfo put(Caller caller, String name, CredentialKind kind, String shareable, byte[] confidential,
            boolean replace) {
        return call(CredentialsRequest.newBuilder().setVaultPut(VaultPut.newBuilder().setCaller(caller.proto())
                .setName(name).setKind(kind).setShareable(shareable == null ? "" : shareable)
                .setConfidential(ByteString.copyFrom(confidential)).setReplace(replace)).build()).getCredential();
    }

    /** Stores a credential the vault generates (an HMAC key, a key pair); a key's public key is in the answer. */
    public CredentialInfo generate(Caller caller, String name, CredentialKind kind, boolean replace) {
        return call(CredentialsRequest.newBuilder().setVaultPut(VaultPut.newBuilder().setCaller(caller.proto())
                .setName(name).setKind(kind).setGenerate(true).setReplace(replace)).build()).getCredential();
    }

    public List<CredentialInfo> list(Caller caller, String prefix) {
        return call(CredentialsRequest.newBuilder().setVaultList(VaultList.newBuilder().setCaller(caller.proto())
                .setPrefix(prefix == null ? "" : prefix)).build()).getCredentials().getCredentialsList();
    }

    /** Deletes a credential; whether it existed. */
    public boolean delete(Caller caller, String name) {
        return call(CredentialsRequest.newBuilder().setVaultDelete(VaultDelete.newBuilder().setCaller(caller.proto())
                .setName(name)).build()).getDeleted().getExisted();
    }

    public byte[] hmac(Caller caller, String name, HmacAlgorithm algorithm, byte[] data) {
        return call(CredentialsRequest.newBuilder().setVaultHmac(VaultHmac.newBuilder().setCaller(caller.proto())
                .setName(name).setAlgorithm(algorithm).setData(ByteString.copyFrom(data))).build())
                .getMac().getMac().toByteArray();
    }

    /** A signature of {@code data}, its algorithm, and the public key (DER) that verifies it. */
    public VaultSignature sign(Caller caller, String name, byte[] data) {
        return call(CredentialsRequest.newBuilder().setVaultSign(VaultSign.newBuilder().setCaller(caller.proto())
                .setName(name).setData(ByteString.copyFrom(data))).build()).getSignature();
    }

    /** A key credential's public key. */
    public PublicKey publicKey(Caller caller, String name) {
        CredentialInfo info = call(CredentialsRequest.newBuilder().setVaultPublicKey(VaultPublicKey.newBuilder()
                .setCaller(caller.proto()).setName(name)).build()).getCredential();
        return publicKey(info.getKind(), info.getPublicKey().toByteArray());
    }

    /** The AWS SigV4 headers of a request; {@code request.payloadSha256()} may be {@link SigV4#UNSIGNED_PAYLOAD}. */
    public AwsSigned awsSign(Caller caller, String name, SigV4.Request request) {
        VaultAwsSign.Builder b = VaultAwsSign.newBuilder().setCaller(caller.proto()).setName(name)
                .setMethod(request.method()).setHost(request.host() == null ? "" : request.host()).setPath(request.path())
                .setPayloadSha256(request.payloadSha256()).setRegion(request.region()).setService(request.service())
                .setTimeMs(request.time().toEpochMilli()).setNormalizePath(request.normalizePath())
                .setContentSha256Header(request.contentSha256Header());
        request.query().forEach(f -> b.addQuery(HttpField.newBuilder().setName(f.name()).setValue(f.value())));
        request.headers().forEach(f -> b.addHeaders(HttpField.newBuilder().setName(f.name()).setValue(f.value())));
        return call(CredentialsRequest.newBuilder().setVaultAwsSign(b).build()).getAwsSigned();
    }

    /** The Authorization header of a Basic or Bearer credential. */
    public String authorization(Caller caller, String name) {
        return call(CredentialsRequest.newBuilder().setVaultAuthorization(VaultAuthorization.newBuilder()
                .setCaller(caller.proto()).setName(name)).build()).getAuthorization().getValue();
    }

    /** Replaces the vault's policy (operators only); the rules as stored. */
    public List<Rule> setPolicy(Caller caller, List<Rule> rules) {
        VaultSetPolicy.Builder b = VaultSetPolicy.newBuilder().setCaller(caller.proto());
        rules.forEach(r -> b.addRules(r.proto()));
        return rules(call(CredentialsRequest.newBuilder().setVaultSetPolicy(b).build()));
    }

    public List<Rule> policy(Caller caller) {
        return rules(call(CredentialsRequest.newBuilder().setVaultGetPolicy(VaultGetPolicy.newBuilder()
                .setCaller(caller.proto())).build()));
    }

    /** The latest {@code n} audit events, oldest first (operators only). */
    public List<AuditEvent> audit(Caller caller, int n) {
        return call(CredentialsRequest.newBuilder().setVaultAudit(VaultAudit.newBuilder().setCaller(caller.proto())
                .setLatest(n)).build()).getAudit().getEventsList();
    }

    private static List<Rule> rules(CredentialsResponse r) {
        return r.getPolicy().getRulesList().stream().map(Rule::of).toList();
    }

    private static PublicKey publicKey(CredentialKind kind, byte[] der) {
        String algorithm = switch (kind) {
            case ED25519_KEY -> "Ed25519";
            case ECDSA_P256_KEY -> "EC";
            case RSA_KEY -> "RSA";
            default -> throw new CredentialsException("credential kind " + kind + " has no public key");
        };
        try {
            return java.security.KeyFactory.getInstance(algorithm)
                    .generatePublic(new java.security.spec.X509EncodedKeySpec(der));
        } catch (java.security.GeneralSecurityException e) {
            throw new CredentialsException("the service answered a malformed " + kind + " public key: " + e, e);
        }
    }

    private static Issued issued(CredentialsResponse r) {
        return new Issued(Pem.parseCertificate(r.getCertificate().getCertificate().toByteArray()),
                Pem.parseCertificate(r.getCertificate().getCaCertificate().toByteArray()));
    }

    private synchronized CredentialsResponse call(CredentialsRequest request) {
        CredentialsResponse r;
        try {
            r = exchange(request);
        } catch (IOException first) {
            // The service may have restarted (its supervisor does that): one fresh connection, then give up.
            closeChannel();
            try {
                r = exchange(request);
            } catch (IOException e) {
                closeChannel();
                throw new CredentialsException("cannot reach the credentials service at " + socket + ": " + e.getMessage(), e);
            }
        }
        if (r.hasRefusal()) {
            throw new Refused(r.getRefusal());
        }
        return r;
    }

    private CredentialsResponse exchange(CredentialsRequest request) throws IOException {
        if (channel == null || !channel.isOpen()) {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            reader = new Framing.Reader();
        }
        Framing.write(channel, request.toByteArray());
        byte[] answer = reader.read(channel);
        if (answer == null) {
            throw new IOException("the service closed the connection");
        }
        try {
            return CredentialsResponse.parseFrom(answer);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("malformed answer: " + e.getMessage(), e);
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // reconnecting anyway
            }
            channel = null;
        }
    }

    @Override
    public synchronized void close() {
        closeChannel();
    }
}
