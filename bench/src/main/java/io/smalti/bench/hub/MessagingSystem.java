package io.smalti.bench.hub;

/**
 * One messaging system under test, seen from the calling side: its processes, one caller and one
 * receiver, and the two operations the benchmark measures.
 *
 * <p>{@link MessagingBench} creates a system by name ({@link MessagingBench#create}), starts it once,
 * then alternates between systems within each run. The receiver always lives in another process; the
 * caller side runs in the benchmark's JVM, so every system pays the same client-side costs of the
 * driver (timing, histogram) and none of them shares a JVM with its peer.
 *
 * <p>Implementations: {@link RelayChain} (the raw baselines), {@link NatsSystem} and {@link HubSystem}
 * (the component hub). Casts and the {@code reset}/{@code stats} queries travel one ordered path in each,
 * so a query normally follows every cast sent before it; if one overtook the last casts, only the count
 * would fall short (shown as lost), not the rate taken from the first and last arrival.
 */
public interface MessagingSystem extends AutoCloseable {

    /** What the receiver counted since the last {@link #resetReceiver()}: casts and when the first and last arrived. */
    record Received(long count, long firstNanos, long lastNanos) {
        /** Receiver-side throughput; {@code System.nanoTime} is one clock for every process on a Linux host. */
        public double perSecond() {
            return count < 2 || lastNanos <= firstNanos ? 0 : count / ((lastNanos - firstNanos) / 1e9);
        }
    }

    /** Short name used in tables and JSON, e.g. {@code relay3}. */
    String name();

    /** The path a message takes, for the table header, e.g. {@code uds>tls>tls>uds (3 relays)}. */
    String path();

    /** Starts the system's processes and connects the caller; returns when a call can be made. */
    void start() throws Exception;

    /** One call with {@code payload}; blocks until the echoed answer arrived. */
    void call(byte[] payload) throws Exception;

    /**
     * Casts {@code payload} as fast as the transport accepts for {@code nanos}, blocking whenever it
     * pushes back (memory stays bounded); returns how many casts were handed to the transport.
     */
    long castFor(byte[] payload, long nanos) throws Exception;

    /** Zeroes the receiver's counters; ordered after every cast sent before it. */
    void resetReceiver() throws Exception;

    /** The receiver's counters; ordered after every cast sent before it. */
    Received received() throws Exception;

    /** Stops every process the system started. */
    @Override
    void close();
}
