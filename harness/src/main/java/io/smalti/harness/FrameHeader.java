package io.smalti.harness;

import io.netty.buffer.ByteBuf;
import io.smalti.protocol.hub.Frame;

/**
 * What the relay needs to know about a frame without decoding it: its correlation, timeout and which body it
 * carries. Scans the top-level protobuf fields of a length-prefixed frame in place, so relaying allocates
 * nothing per frame; only the few frames the harness acts on (Hello, Register, Monitor, Terminate...) are
 * decoded fully. Mutable and reused: confined to one channel's event loop.
 */
final class FrameHeader {
    long correlation;
    int timeoutMs;
    /** The field number of the body (Frame.BodyCase number), 0 when the frame has none. */
    int body;
    /** Why the frame could not be scanned, or null. */
    String malformed;

    /**
     * Scans {@code frame}, which starts with the 4-byte length prefix, without moving its reader index.
     * Returns false (and sets {@link #malformed}) when the bytes are not a well-formed protobuf message.
     */
    boolean scan(ByteBuf frame) {
        correlation = 0;
        timeoutMs = 0;
        body = 0;
        malformed = null;
        int index = frame.readerIndex() + 4;
        int end = frame.writerIndex();
        while (index < end) {
            long tag = 0;
            int shift = 0;
            // Inline varint reads: the relay's hot path, no allocation.
            while (true) {
                if (index >= end || shift > 63) {
                    return fail("truncated field tag");
                }
                byte b = frame.getByte(index++);
                tag |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    break;
                }
                shift += 7;
            }
            int field = (int) (tag >>> 3);
            int wireType = (int) (tag & 7);
            if (field == 0) {
                return fail("field number 0");
            }
            switch (wireType) {
                case 0 -> {
                    long value = 0;
                    shift = 0;
                    while (true) {
                        if (index >= end || shift > 63) {
                            return fail("truncated varint in field " + field);
                        }
                        byte b = frame.getByte(index++);
                        value |= (long) (b & 0x7f) << shift;
                        if (b >= 0) {
                            break;
                        }
                        shift += 7;
                    }
                    if (field == Frame.CORRELATION_FIELD_NUMBER) {
                        correlation = value;
                    } else if (field == Frame.TIMEOUT_MS_FIELD_NUMBER) {
                        timeoutMs = (int) value;
                    }
                }
                case 1 -> index += 8;
                case 5 -> index += 4;
                case 2 -> {
                    long length = 0;
                    shift = 0;
                    while (true) {
                        if (index >= end || shift > 35) {
                            return fail("truncated length in field " + field);
                        }
                        byte b = frame.getByte(index++);
                        length |= (long) (b & 0x7f) << shift;
                        if (b >= 0) {
                            break;
                        }
                        shift += 7;
                    }
                    if (length > end - index) {
                        return fail("field " + field + " is longer than the frame");
                    }
                    index += (int) length;
                    if (field >= 10) {
                        body = field;
                    }
                }
                default -> {
                    return fail("unsupported wire type " + wireType + " in field " + field);
                }
            }
            if (index > end) {
                return fail("field " + field + " is longer than the frame");
            }
        }
        return true;
    }

    private boolean fail(String why) {
        malformed = why;
        return false;
    }

    /** The body as the generated enum (BODY_NOT_SET for none, null for a body this version does not know). */
    Frame.BodyCase bodyCase() {
        return body == 0 ? Frame.BodyCase.BODY_NOT_SET : Frame.BodyCase.forNumber(body);
    }

    /**
     * Whether the frame asks for an answer: a request body with a non-zero correlation. Answers (Reply, Ok,
     * Error...) carry a correlation too but must never be answered.
     */
    boolean isRequest() {
        if (correlation == 0) {
            return false;
        }
        Frame.BodyCase c = bodyCase();
        if (c == null) {
            return true; // a newer protocol's request: treat as one so it is never silently lost
        }
        return switch (c) {
            case CALL, CAST, REGISTER, UNREGISTER, SELECT, MONITOR, DEMONITOR, LINK, UPDATE_ATTRIBUTES,
                    SELECT_ATTRIBUTES, USE_CREDENTIAL -> true;
            default -> false;
        };
    }
}
