package io.smalti.credentials.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.Pem;
import io.smalti.credentials.service.CredentialsService;
import io.smalti.credentials.service.Framing;
import io.smalti.protocol.credentials.CredentialsRequest;
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
        }
        Framing.write(channel, request.toByteArray());
        byte[] answer = Framing.read(channel);
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
