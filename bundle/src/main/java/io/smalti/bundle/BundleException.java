package io.smalti.bundle;

/**
 * A bundle, manifest, key or signature that is not acceptable, or could not be read or written; the message
 * names what was wrong (the manifest field, the archive entry, the limit). Immutable.
 */
public class BundleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
