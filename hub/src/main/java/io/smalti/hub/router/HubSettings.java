package io.smalti.hub.router;

import java.time.Duration;

/**
 * Settings of the hub ({@code smalti.hub} in the node's configuration).
 *
 * @param maxFrame the largest frame accepted or sent, in bytes
 * @param defaultTimeout a request's timeout when its frame says 0
 * @param queueHighWater bytes queued to one connection above which it is congested: senders on this node
 *     are no longer read from until it drains; at four times this frames to it are refused (OVERLOADED)
 * @param queueLowWater bytes below which the connection is no longer congested
 * @param terminateGrace how long a terminated component is given before its harness kills it
 * @param groupCacheTtl how long a sender reuses a group's member list before asking the ring again
 * @param ioThreads event-loop threads of the hub endpoint; 0 for half the processors (at least one)
 * @param helloTimeout how long a new connection may take to say Hello (or Enroll), TLS handshake included
 */
public record HubSettings(String host, int port, int maxFrame, Duration defaultTimeout, int queueHighWater,
                          int queueLowWater, Duration terminateGrace, Duration groupCacheTtl, int ioThreads,
                          Duration helloTimeout) {

    public static HubSettings defaults(String host, int port) {
        return new HubSettings(host, port, 1 << 20, Duration.ofSeconds(30), 1 << 20, 256 << 10,
                Duration.ofSeconds(5), Duration.ofMillis(500), 0, Duration.ofSeconds(5));
    }

    /** These settings with another hello timeout. */
    public HubSettings withHelloTimeout(Duration timeout) {
        return new HubSettings(host, port, maxFrame, defaultTimeout, queueHighWater, queueLowWater, terminateGrace,
                groupCacheTtl, ioThreads, timeout);
    }

    /** The event-loop threads to run: {@link #ioThreads}, or half the processors when it is 0. */
    public int effectiveIoThreads() {
        return ioThreads > 0 ? ioThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }
}
