package io.smalti.harness.sdk;

import io.smalti.protocol.hub.Attachment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The answer to a call: one {@link Result} per component that answered (one for a component or an "any"
 * target; for "all", every member's that arrived in time, and {@link #asked} says how many were asked).
 * Immutable.
 */
public final class Reply {
    /** One component's answer: its outputs and attachments, or the error it failed with. Immutable. */
    public static final class Result {
        private final String from;
        private final byte[] outputs;
        private final List<Attachment> attachments;
        private final HubException error;

        Result(io.smalti.protocol.hub.Result r) {
            this.from = r.getFrom();
            this.outputs = r.getOutputs().toByteArray();
            this.attachments = r.getAttachmentsList();
            this.error = r.hasError() ? HubException.of(r.getError()) : null;
        }

        /** The answering component's id. */
        public String from() {
            return from;
        }

        public byte[] outputs() {
            return outputs.clone();
        }

        public String outputsAsString() {
            return new String(outputs, StandardCharsets.UTF_8);
        }

        public List<Attachment> attachments() {
            return attachments;
        }

        public boolean failed() {
            return error != null;
        }

        /** The error this component failed with, or null. */
        public HubException error() {
            return error;
        }
    }

    private final List<Result> results;
    private final int asked;

    Reply(io.smalti.protocol.hub.Reply reply) {
        List<Result> list = new ArrayList<>(reply.getResultsCount());
        for (io.smalti.protocol.hub.Result r : reply.getResultsList()) {
            list.add(new Result(r));
        }
        this.results = List.copyOf(list);
        this.asked = reply.getAsked();
    }

    public List<Result> results() {
        return results;
    }

    /** For selector all: how many members the call went to. */
    public int asked() {
        return asked;
    }

    /** The only (first) result; throws its error if it failed, or UNAVAILABLE if there is none. */
    public Result single() {
        if (results.isEmpty()) {
            throw new HubException(ErrorCode.UNAVAILABLE, "the reply has no result");
        }
        Result r = results.get(0);
        if (r.error != null) {
            throw r.error;
        }
        return r;
    }

    /** The single result's outputs. */
    public byte[] outputs() {
        return single().outputs();
    }

    /** The single result's outputs as UTF-8. */
    public String outputsAsString() {
        return single().outputsAsString();
    }
}
