package io.smalti.container;

/** A container operation failed; the message says what was wrong and with which instance. */
public class ContainerException extends RuntimeException {
    public ContainerException(String message) {
        super(message);
    }

    public ContainerException(String message, Throwable cause) {
        super(message, cause);
    }
}
