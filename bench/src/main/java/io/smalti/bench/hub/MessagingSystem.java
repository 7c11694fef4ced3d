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
 * <p>A new system (the component hub: two components written with the Java component SDK, each started
 * through its own harness process, on one node or on two) implements this interface and gets a name in
 * {@link MessagingBench#create}; nothing else in the driver changes.
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
