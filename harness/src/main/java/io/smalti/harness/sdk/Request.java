package io.smalti.harness.sdk;

import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.Attachment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A call or cast delivered to this component: who sent it, which object and operation, the inputs and
 * attachments, and until when an answer is useful. Immutable.
 */
public final class Request {
    private final String caller;
    private final String object;
    private final String operation;
    private final ByteString inputs;
    private final List<Attachment> attachments;
    private final long deadlineNanos;
    final long correlation;

    Request(String caller, String object, String operation, ByteString inputs, List<Attachment> attachments,
            long deadlineNanos, long correlation) {
        this.caller = caller;
        this.object = object;
        this.operation = operation;
        this.inputs = inputs;
        this.attachments = attachments;
        this.deadlineNanos = deadlineNanos;
        this.correlation = correlation;
    }

    /** The calling component's id, or "tool:&lt;node&gt;" for the REST API. */
    public String caller() {
        return caller;
    }

    /** The object addressed inside this component; empty for the component itself. */
    public String object() {
        return object;
    }

    public String operation() {
        return operation;
    }

    /** The inputs (a fresh copy). The tools send JSON. */
    public byte[] inputs() {
        return inputs.toByteArray();
    }

    public ByteString inputBytes() {
        return inputs;
    }

    /** The inputs decoded as UTF-8. */
    public String inputsAsString() {
        return inputs.toString(StandardCharsets.UTF_8);
    }

    public List<Attachment> attachments() {
        return attachments;
    }

    /** Whether an answer is still wanted (for a cast: always true). */
    public boolean expired() {
        return deadlineNanos != 0 && System.nanoTime() - deadlineNanos > 0;
    }

    /** Whether this is a call (wants an answer) rather than a cast. */
    public boolean isCall() {
        return correlation != 0;
    }

    @Override
    public String toString() {
        return "Request[" + operation + " from " + caller + ", " + inputs.size() + " bytes]";
    }
}
