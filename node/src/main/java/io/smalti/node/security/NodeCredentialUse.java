package io.smalti.node.security;

import com.google.protobuf.ByteString;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.SigV4;
import io.smalti.hub.endpoint.CredentialUse;
import io.smalti.protocol.credentials.AwsSigned;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.Refusal;
import io.smalti.protocol.credentials.VaultSignature;
import io.smalti.protocol.hub.CredentialResult;
import io.smalti.protocol.hub.Header;
import io.smalti.protocol.hub.UseCredential;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * Components' vault operations on a node: the caller is the component whose certificate the hub verified, with its
 * type's name (for type rules of the policy), and the node's credentials service decides and audits. Thread-safe;
 * service calls run on this object's one thread ({@code hub-vault}), never on the hub's event loops.
 */
public final class NodeCredentialUse implements CredentialUse {
    private final NodeCredentials credentials;
    /** The name of a component's type, from the instances this node runs (empty when unknown). */
    private final Function<String, String> typeOf;
    private final ExecutorService calls = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hub-vault");
        t.setDaemon(true);
        return t;
    });

    public NodeCredentialUse(NodeCredentials credentials, Function<String, String> typeOf) {
        this.credentials = credentials;
        this.typeOf = typeOf;
    }

    @Override
    public CompletionStage<CredentialResult> use(String component, UseCredential u) {
        return CompletableFuture.supplyAsync(() -> {
            Caller caller = Caller.component(component, credentials.identity().uid(), typeOf.apply(component));
            CredentialsClient c = credentials.client();
            try {
                return switch (u.getOperation()) {
                    case HMAC_SHA256 -> CredentialResult.newBuilder().setMac(ByteString.copyFrom(
                            c.hmac(caller, u.getName(), HmacAlgorithm.HMAC_SHA256, u.getData().toByteArray()))).build();
                    case HMAC_SHA512 -> CredentialResult.newBuilder().setMac(ByteString.copyFrom(
                            c.hmac(caller, u.getName(), HmacAlgorithm.HMAC_SHA512, u.getData().toByteArray()))).build();
                    case SIGN -> {
                        VaultSignature s = c.sign(caller, u.getName(), u.getData().toByteArray());
                        yield CredentialResult.newBuilder().setSignature(s.getSignature()).setAlgorithm(s.getAlgorithm())
                                .setPublicKey(s.getPublicKey()).build();
                    }
                    case PUBLIC_KEY -> CredentialResult.newBuilder().setPublicKey(ByteString.copyFrom(
                            c.publicKey(caller, u.getName()).getEncoded())).build();
                    case AUTHORIZATION_HEADER -> CredentialResult.newBuilder()
                            .setAuthorization(c.authorization(caller, u.getName())).build();
                    case AWS_SIGV4 -> aws(c.awsSign(caller, u.getName(), request(u)));
                    default -> throw new Refused("unknown operation " + u.getOperation(), false, false);
                };
            } catch (CredentialsClient.Refused e) {
                throw new Refused(e.getMessage(), e.code == Refusal.Code.DENIED, e.code == Refusal.Code.NOT_FOUND);
            } catch (IllegalArgumentException e) {
                throw new Refused(e.getMessage(), false, false);
            }
        }, calls);
    }

    private static SigV4.Request request(UseCredential u) {
        var a = u.getAws();
        List<SigV4.Field> query = a.getQueryList().stream().map(h -> new SigV4.Field(h.getName(), h.getValue())).toList();
        List<SigV4.Field> headers = a.getHeadersList().stream().map(h -> new SigV4.Field(h.getName(), h.getValue())).toList();
        return new SigV4.Request(a.getMethod(), a.getHost().isEmpty() ? null : a.getHost(), a.getPath(), query, headers,
                a.getPayloadSha256().isEmpty() ? SigV4.UNSIGNED_PAYLOAD : a.getPayloadSha256(), a.getRegion(), a.getService(),
                Instant.ofEpochMilli(a.getTimeMs()), true, false);
    }

    private static CredentialResult aws(AwsSigned s) {
        CredentialResult.Builder b = CredentialResult.newBuilder().setAuthorization(s.getAuthorization());
        s.getHeadersList().forEach(h -> b.addHeaders(Header.newBuilder().setName(h.getName()).setValue(h.getValue())));
        return b.build();
    }
}
