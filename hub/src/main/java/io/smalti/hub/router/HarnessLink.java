package io.smalti.hub.router;

import io.smalti.protocol.hub.Frame;

/**
 * The router's side of one connection to a harness (or an in-process client): sends frames to it.
 * Implementations must be thread-safe and must never block: {@link #send} refuses when the connection's
 * outbound queue is over its limit.
 */
public interface HarnessLink {

    /** Queues a frame; false when it was dropped because the queue is full or the connection is gone. */
    boolean send(Frame frame);

    /** Closes the connection (after frames already queued are written). */
    void close();

    /** Closes the connection at once, dropping what is queued: its peer is known to be gone. */
    default void abort() {
        close();
    }

    /** The peer, for logs. */
    String describe();
}
