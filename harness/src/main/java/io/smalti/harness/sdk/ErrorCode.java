package io.smalti.harness.sdk;

import io.smalti.protocol.hub.Error;

/** Why a request failed: the protocol's Error codes (see hub.proto for each meaning). Immutable. */
public enum ErrorCode {
    UNSPECIFIED, BAD_REQUEST, UNSUPPORTED_VERSION, TOO_LARGE, UNKNOWN_TARGET, NO_MEMBERS, EXPIRED, OVERLOADED,
    UNAVAILABLE, FAILED, FORBIDDEN, UNAUTHENTICATED;

    static ErrorCode of(Error.Code code) {
        return switch (code) {
            case BAD_REQUEST -> BAD_REQUEST;
            case UNSUPPORTED_VERSION -> UNSUPPORTED_VERSION;
            case TOO_LARGE -> TOO_LARGE;
            case UNKNOWN_TARGET -> UNKNOWN_TARGET;
            case NO_MEMBERS -> NO_MEMBERS;
            case EXPIRED -> EXPIRED;
            case OVERLOADED -> OVERLOADED;
            case UNAVAILABLE -> UNAVAILABLE;
            case FAILED -> FAILED;
            case FORBIDDEN -> FORBIDDEN;
            case UNAUTHENTICATED -> UNAUTHENTICATED;
            default -> UNSPECIFIED;
        };
    }

    Error.Code toProto() {
        return this == UNSPECIFIED ? Error.Code.UNSPECIFIED : Error.Code.valueOf(name());
    }
}
