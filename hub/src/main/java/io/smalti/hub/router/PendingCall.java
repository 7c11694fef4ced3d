package io.smalti.hub.router;

import io.smalti.protocol.hub.Error;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Reply;
import io.smalti.protocol.hub.Result;
import io.netty.util.Timeout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A call this node's router sent and is waiting for: who asked (and under which correlation), how many
 * components were asked, the results so far. Guarded by its own monitor: answers, returns and the expiry
 * timer arrive on different threads.
 */
final class PendingCall {
    final long id;
    final Consumer<Frame> origin;
    final long correlation;
    /** The call as the caller sent it (with its caller set), for a retry with another ANY member. */
    final Frame frame;
    final long deadlineNanos;
    final int timeoutMillis;
    /** The group of an ANY call, to pick another member when the chosen one has gone; else null. */
    final String anyGroup;
    final String target;
    /** A group call with selector ALL: errors become per-member results. */
    final boolean fanOut;
    private final int asked;
    private final List<Result> results = new ArrayList<>();
    private final Set<String> tried = new HashSet<>();
    private boolean done;
    volatile Timeout timeout;

    PendingCall(long id, Consumer<Frame> origin, Frame frame, long deadlineNanos, int timeoutMillis,
                String anyGroup, String target, int asked) {
        this.id = id;
        this.origin = origin;
        this.frame = frame;
        this.correlation = frame.getCorrelation();
        this.deadlineNanos = deadlineNanos;
        this.timeoutMillis = timeoutMillis;
        this.anyGroup = anyGroup;
        this.target = target;
        this.asked = asked;
        this.fanOut = frame.getCall().getTarget().getSelector() == io.smalti.protocol.hub.Selector.ALL
                && frame.getCall().getTarget().hasGroup();
    }

    /** Records that {@code component} was tried; false if it already was. */
    synchronized boolean tried(String component) {
        return tried.add(component);
    }

    synchronized Set<String> triedSoFar() {
        return Set.copyOf(tried);
    }

    /** Adds a result; returns the reply to send when it was the last one expected, else null. */
    synchronized Frame add(Result result) {
        if (done) {
            return null;
        }
        results.add(result);
        if (results.size() < asked) {
            return null;
        }
        done = true;
        return reply();
    }

    /** Ends the call with an error for the caller (single target) ; null if it already ended. */
    synchronized Frame fail(Error error) {
        if (done) {
            return null;
        }
        done = true;
        return Frame.newBuilder().setCorrelation(correlation).setError(error).build();
    }

    /** The timeout ran out: the error (one target, nothing arrived) or what a fan-out gathered. */
    synchronized Frame expire() {
        if (done) {
            return null;
        }
        done = true;
        if (!fanOut) {
            return Frame.newBuilder().setCorrelation(correlation).setError(Error.newBuilder().setCode(Error.Code.EXPIRED)
                    .setMessage("no answer from " + target + " within " + timeoutMillis + " ms")).build();
        }
        return reply();
    }

    private Frame reply() {
        return Frame.newBuilder().setCorrelation(correlation)
                .setReply(Reply.newBuilder().addAllResults(results).setAsked(asked)).build();
    }
}
