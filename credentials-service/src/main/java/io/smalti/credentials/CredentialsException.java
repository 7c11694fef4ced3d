package io.smalti.credentials;

/** Something about credentials is wrong (a file, a key, a token, a request); the message says what, for an operator. */
public class CredentialsException extends RuntimeException {
    public CredentialsException(String message) {
        super(message);
    }

    public CredentialsException(String message, Throwable cause) {
        super(message, cause);
    }
}
