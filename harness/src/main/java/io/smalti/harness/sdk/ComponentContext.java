package io.smalti.harness.sdk;

import io.smalti.protocol.hub.Attachment;
import io.smalti.protocol.hub.Log;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What a component can ask of the hub. Every request has a timeout (the connection's default, 5 s, unless
 * given): its future fails with {@link HubException} EXPIRED when no answer arrived in time, TOO_LARGE when
 * the frame exceeds the harness's limit (it is not sent), OVERLOADED when the send queue is full and
 * UNAVAILABLE when the connection is closed. Other failures carry the code the hub or callee answered.
 *
 * <p>Threading: thread-safe. Futures complete on the connection's reader thread: attach blocking work with
 * the {@code *Async} methods of CompletableFuture, never block in a plain {@code thenApply}. Blocking with
 * {@code get()} or {@code join()} is fine from handlers and other threads.
 */
public interface ComponentContext {
    /** This component's id (40 hex digits). */
    String id();

    /** The node whose hub serves this component. */
    String node();

    /** The largest frame the harness accepts, in bytes. */
    int maxFrame();

    /**
     * Calls {@code operation} on {@code target}. For a component or an "any" group target the future fails
     * with the callee's error if it failed; for "all" it completes with every result (see {@link Reply}).
     */
    CompletableFuture<Reply> call(Target target, String object, String operation, byte[] inputs,
            List<Attachment> attachments, Duration timeout);

    default CompletableFuture<Reply> call(Target target, String operation, byte[] inputs, Duration timeout) {
        return call(target, "", operation, inputs, List.of(), timeout);
    }

    default CompletableFuture<Reply> call(Target target, String operation, byte[] inputs) {
        return call(target, "", operation, inputs, List.of(), null);
    }

    /** Calls with UTF-8 text (typically JSON) inputs. */
    default CompletableFuture<Reply> call(Target target, String operation, String inputs) {
        return call(target, operation, inputs.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Calls every member of {@code group}; the reply holds the results that arrived before the timeout. */
    default CompletableFuture<Reply> callAll(String group, String operation, byte[] inputs, Duration timeout) {
        return call(Target.group(group).all(), "", operation, inputs, List.of(), timeout);
    }

    /**
     * Sends {@code operation} to {@code target} without waiting for an answer; delivery is best effort and
     * failures are silent. Returns false when the send queue is full or the frame too large (nothing sent).
     */
    boolean cast(Target target, String object, String operation, byte[] inputs, List<Attachment> attachments);

    default boolean cast(Target target, String operation, byte[] inputs) {
        return cast(target, "", operation, inputs, List.of());
    }

    /** Joins groups; completes with each group's member count right after. */
    CompletableFuture<Map<String, Integer>> register(String... groups);

    /** Leaves groups; completes with each group's member count right after. */
    CompletableFuture<Map<String, Integer>> unregister(String... groups);

    /** The members of {@code group}: one chosen at random for selector any, all of them for all. */
    CompletableFuture<List<String>> select(String group, boolean all);

    /** Watches joins and leaves of {@code group} (GroupChanged events). */
    CompletableFuture<Void> monitorGroup(String group);

    /** Watches {@code componentId} going away (ComponentDown event). */
    CompletableFuture<Void> monitorComponent(String componentId);

    /** Watches the attributes of a component or group (AttributeChanged events). */
    CompletableFuture<Void> monitorAttributes(Target target);

    CompletableFuture<Void> demonitorGroup(String group);

    CompletableFuture<Void> demonitorComponent(String componentId);

    CompletableFuture<Void> demonitorAttributes(Target target);

    /** Ties this component's life to {@code componentId}: when it goes away, this one is terminated. */
    CompletableFuture<Void> link(String componentId);

    /** Sets and removes attributes of this component or of a group it is a member of. */
    CompletableFuture<Void> updateAttributes(Target target, Map<String, byte[]> set, Collection<String> remove);

    /** Reads attributes of a component or group (all of them when no names are given). */
    CompletableFuture<Map<String, byte[]>> selectAttributes(Target target, String... names);

    /** The node's vault: operations on credentials this component may use (see {@link Credentials}). */
    Credentials credentials();

    /** A structured log event, written to the node's log with this component's id. Best effort. */
    void log(Log.Level level, String message, Map<String, String> fields);

    default void log(Log.Level level, String message) {
        log(level, message, Map.of());
    }
}
