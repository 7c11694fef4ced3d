package io.smalti.harness.sdk;

import com.google.protobuf.ByteString;
import io.smalti.protocol.hub.Attachment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A component's answer to a call: outputs and attachments. To fail a call, throw instead. Immutable. */
public final class Response {
    private static final Response EMPTY = new Response(ByteString.EMPTY, List.of());

    private final ByteString outputs;
    private final List<Attachment> attachments;

    private Response(ByteString outputs, List<Attachment> attachments) {
        this.outputs = outputs;
        this.attachments = List.copyOf(attachments);
    }

    public static Response of(byte[] outputs) {
        return new Response(ByteString.copyFrom(outputs), List.of());
    }

    /** Outputs as UTF-8 text (typically JSON). */
    public static Response of(String outputs) {
        return new Response(ByteString.copyFrom(outputs, StandardCharsets.UTF_8), List.of());
    }

    public static Response of(ByteString outputs) {
        return new Response(outputs, List.of());
    }

    public static Response of(byte[] outputs, List<Attachment> attachments) {
        return new Response(ByteString.copyFrom(outputs), attachments);
    }

    /** No outputs. */
    public static Response empty() {
        return EMPTY;
    }

    public ByteString outputs() {
        return outputs;
    }

    public List<Attachment> attachments() {
        return attachments;
    }
}
