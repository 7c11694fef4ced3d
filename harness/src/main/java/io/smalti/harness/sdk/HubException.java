package io.smalti.harness.sdk;

import io.smalti.protocol.hub.Error;

/**
 * A request failed: the hub, the harness or the called component answered with an Error, or the SDK gave
 * up (EXPIRED, TOO_LARGE, OVERLOADED, UNAVAILABLE). Thrown from a {@link Component#call} handler it becomes
 * the caller's error, with its code. Immutable.
 */
public class HubException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public HubException(ErrorCode code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    static HubException of(Error error) {
        return new HubException(ErrorCode.of(error.getCode()), error.getMessage());
    }

    public ErrorCode code() {
        return code;
    }

    /** The message without the code prefix. */
    public String reason() {
        String m = getMessage();
        String prefix = code + ": ";
        return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }
}
