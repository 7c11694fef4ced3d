package io.smalti.credentials.service;

import com.google.protobuf.ByteString;
import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Pem;
import io.smalti.credentials.ca.Revocations;
import io.smalti.credentials.vault.Audit;
import io.smalti.credentials.vault.Vault;
import io.smalti.protocol.credentials.CredentialsRequest;
import io.smalti.protocol.credentials.CredentialsResponse;
import io.smalti.protocol.credentials.IssuedCertificate;
import io.smalti.protocol.credentials.OneTimeToken;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.RevocationList;
import io.smalti.protocol.credentials.Revoked;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the credentials service does for its callers: issues certificates (directly for the node agent, or against a
 * one-time token), makes tokens, revokes, and signs the revocation list; the vault's requests go to
 * {@link VaultRequests}, which audits them. Every request is logged with who it was for, never with a key or token.
 * Not thread-safe: its one owner is the service's request thread ({@link SocketServer}).
 */
public final class CredentialsService {
    private static final Logger LOG = LoggerFactory.getLogger(CredentialsService.class);
    /** The longest certificate a caller may ask for. */
    static final Duration MAX_LIFETIME = Duration.ofDays(30);

    private final ClusterCa ca;
    private final OneTimeTokens tokens;
    private final Revocations revocations;
    private final Duration lifetime;
    private final Clock clock;
    private X509CRL crl;
    private List<BigInteger> crlSerials = List.of();
    private final VaultRequests vault;

    /** The vault and its audit log are opened by the caller from the same directory and master key as the CA. */
    public CredentialsService(ClusterCa ca, OneTimeTokens tokens, Revocations revocations, Vault vault, Audit audit,
            Duration lifetime, Clock clock) {
        this.ca = ca;
        this.vault = new VaultRequests(vault, audit, clock);
        this.tokens = tokens;
        this.revocations = revocations;
        this.lifetime = lifetime;
        this.clock = clock;
    }

    /** Answers one request; a bad request is refused with what was wrong, never thrown. */
    public CredentialsResponse handle(CredentialsRequest request) {
        try {
            return switch (request.getBodyCase()) {
                case ISSUE -> issue(identity(request.getIssue().getIdentity()), request.getIssue().getPublicKey().toByteArray(),
                        request.getIssue().getLifetimeMs());
                case MAKE_TOKEN -> makeToken(identity(request.getMakeToken().getIdentity()));
                case REDEEM -> redeem(request.getRedeem().getToken(), request.getRedeem().getPublicKey().toByteArray(),
                        request.getRedeem().getSubsystem());
                case REVOKE -> revoke(request.getRevoke().getUid());
                case GET_CRL -> crl();
                case BODY_NOT_SET -> refuse(Refusal.Code.BAD_REQUEST, "empty request");
                case VAULT_PUT, VAULT_LIST, VAULT_DELETE, VAULT_HMAC, VAULT_SIGN, VAULT_PUBLIC_KEY, VAULT_AWS_SIGN,
                        VAULT_AUTHORIZATION, VAULT_SET_POLICY, VAULT_GET_POLICY, VAULT_AUDIT -> vault.handle(request);
            };
        } catch (IllegalArgumentException e) {
            return refuse(Refusal.Code.BAD_REQUEST, e.getMessage());
        } catch (OneTimeTokens.Refused e) {
            LOG.warn("Refused a token: {}", e.getMessage());
            return refuse(Refusal.Code.BAD_TOKEN, e.getMessage());
        } catch (CredentialsException e) {
            LOG.error("Credentials request failed: {}", e.getMessage());
            return refuse(Refusal.Code.INTERNAL, e.getMessage());
        }
    }

    private CredentialsResponse issue(Identity identity, byte[] publicKey, long lifetimeMs) {
        Duration life = lifetimeMs == 0 ? lifetime : Duration.ofMillis(lifetimeMs);
        if (life.compareTo(MAX_LIFETIME) > 0 || life.toMillis() < 1000) {
            throw new IllegalArgumentException("certificate lifetime must be 1 s.." + MAX_LIFETIME.toDays() + " days, not " + life);
        }
        PublicKey key = Pem.parsePublicKey(publicKey);
        Instant now = clock.instant();
        X509Certificate cert = ca.issue(identity, key, life, now);
        revocations.issued(identity.uid(), cert.getSerialNumber(), cert.getNotAfter().toInstant());
        LOG.info("Issued a certificate for {} (serial {}, until {})", identity, cert.getSerialNumber().toString(16),
                cert.getNotAfter().toInstant());
        try {
            return CredentialsResponse.newBuilder().setCertificate(IssuedCertificate.newBuilder()
                    .setCertificate(ByteString.copyFrom(cert.getEncoded()))
                    .setCaCertificate(ByteString.copyFrom(ca.certificate().getEncoded()))
                    .setIdentity(proto(identity))
                    .setNotAfterMs(cert.getNotAfter().getTime())).build();
        } catch (CertificateEncodingException e) {
            throw new CredentialsException("cannot encode a certificate: " + e, e);
        }
    }

    private CredentialsResponse makeToken(Identity identity) throws OneTimeTokens.Refused {
        OneTimeTokens.Token t = tokens.make(identity, clock.instant());
        LOG.info("Made a one-time token for {} (until {})", identity, t.expires());
        return CredentialsResponse.newBuilder().setToken(OneTimeToken.newBuilder().setToken(t.value())
                .setExpiresMs(t.expires().toEpochMilli())).build();
    }

    private CredentialsResponse redeem(String token, byte[] publicKey, String subsystem) throws OneTimeTokens.Refused {
        Pem.parsePublicKey(publicKey); // a bad key must not use the token up
        Identity identity = tokens.redeem(token, clock.instant());
        if (!subsystem.isEmpty() && !subsystem.equals(identity.subsystem())) {
            // Used up all the same: whoever holds it tried it where it does not belong.
            throw new OneTimeTokens.Refused("the token is not valid here (it was made for a " + identity.subsystem()
                    + ", not a " + subsystem + ")");
        }
        return issue(identity, publicKey, 0);
    }

    private CredentialsResponse revoke(String uid) {
        int n = revocations.revoke(uid, clock.instant());
        if (n > 0) {
            crl = null;
            LOG.info("Revoked {} certificate(s) of {}", n, uid);
        }
        return CredentialsResponse.newBuilder().setRevoked(Revoked.newBuilder().setCertificates(n)).build();
    }

    private CredentialsResponse crl() {
        Instant now = clock.instant();
        // Re-signed when something was revoked or half its validity passed: nodes poll it.
        if (crl == null || crl.getNextUpdate().toInstant().minus(lifetime.dividedBy(2)).isBefore(now)) {
            crlSerials = revocations.revoked(now);
            crl = ca.crl(crlSerials, now, now.plus(lifetime));
        }
        try {
            RevocationList.Builder b = RevocationList.newBuilder().setDer(ByteString.copyFrom(crl.getEncoded()));
            crlSerials.forEach(s -> b.addSerials(ByteString.copyFrom(s.toByteArray())));
            return CredentialsResponse.newBuilder().setCrl(b).build();
        } catch (java.security.cert.CRLException e) {
            throw new CredentialsException("cannot encode the revocation list: " + e, e);
        }
    }

    static Identity identity(io.smalti.protocol.credentials.Identity p) {
        return new Identity(p.getSubsystem(), p.getUid(), p.getNode(), p.getEndpointsList());
    }

    public static io.smalti.protocol.credentials.Identity proto(Identity i) {
        return io.smalti.protocol.credentials.Identity.newBuilder().setSubsystem(i.subsystem()).setUid(i.uid())
                .setNode(i.node()).addAllEndpoints(i.endpoints()).build();
    }

    private static CredentialsResponse refuse(Refusal.Code code, String message) {
        return CredentialsResponse.newBuilder().setRefusal(Refusal.newBuilder().setCode(code)
                .setMessage(message == null ? code.name() : message)).build();
    }
}
