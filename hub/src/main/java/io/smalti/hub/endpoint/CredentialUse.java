package io.smalti.hub.endpoint;

import io.smalti.protocol.hub.CredentialResult;
import io.smalti.protocol.hub.UseCredential;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Operations on the node's vault for a connected component (whose identity its certificate proved). Implementations
 * are thread-safe; the future may complete on any thread (the endpoint hops back to the connection's loop) and fails
 * with {@link Refused} when the vault says no.
 */
public interface CredentialUse {
    /** The vault refused: {@code forbidden} for a policy denial, else an unknown credential or a bad request. */
    final class Refused extends RuntimeException {
        public final boolean forbidden;
        public final boolean unknown;

        public Refused(String message, boolean forbidden, boolean unknown) {
            super(message);
            this.forbidden = forbidden;
            this.unknown = unknown;
        }
    }

    CompletionStage<CredentialResult> use(String component, UseCredential request);

    /** For hubs without a vault (tests of the router): every use is refused. */
    CredentialUse NONE = (component, request) -> CompletableFuture.failedFuture(
            new Refused("this hub has no vault", false, false));
}
