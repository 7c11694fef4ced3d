package io.smalti.harness.sdk;

import io.smalti.protocol.hub.Event;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a component author implements. The SDK calls {@link #initialize} once, then {@link #call},
 * {@link #cast} and {@link #event} for what arrives, and {@link #terminate} when the harness asks the
 * component to stop.
 *
 * <p>Threading: handlers run on the connection's executor (by default a small pool), so several may run at
 * once and must be thread-safe; a slow handler does not stall the connection. A call may arrive as soon as
 * {@link #initialize} has registered a group, while the rest of {@code initialize} still runs.
 */
public interface Component {
    /** Once, after the connection is established: register groups, start monitors. May block. */
    default void initialize(ComponentContext context) throws Exception {
    }

    /**
     * Answers a call. Throwing fails the call: a {@link HubException} with its code, anything else with
     * FAILED and the exception's message.
     */
    default Response call(Request request) throws Exception {
        throw new HubException(ErrorCode.FAILED, "unknown operation " + request.operation());
    }

    /**
     * Answers a call asynchronously, so a component can call others before answering without holding a
     * thread. The default runs {@link #call} on the calling (executor) thread.
     */
    default CompletionStage<Response> callAsync(Request request) {
        try {
            return CompletableFuture.completedFuture(call(request));
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Handles a cast (no answer). Exceptions are logged and otherwise ignored. */
    default void cast(Request request) throws Exception {
    }

    /** Handles a monitor event: a group changed, a component went down, an attribute changed. */
    default void event(Event event) throws Exception {
    }

    /**
     * The harness asks the component to stop: finish up quickly (it is killed after the grace period). After
     * this returns the connection is closed, and {@link Components#run} exits the process with status 0.
     */
    default void terminate(String reason) throws Exception {
    }
}
