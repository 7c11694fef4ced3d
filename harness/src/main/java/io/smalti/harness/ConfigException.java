package io.smalti.harness;

/** A harness configuration that cannot be used; the message names the offending field. Immutable. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    ConfigException(String field, String problem) {
        super(field + ": " + problem);
    }
}
