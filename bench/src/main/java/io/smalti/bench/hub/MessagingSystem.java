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
 * <p>The component hub joins as one more implementation, named {@code hub-1node} and {@code hub-2node} in
 * {@link MessagingBench#create} (the summary already pairs them with {@code relay3}, {@code relay4} and
 * {@code nats}). It needs the smalti-harness dependency in bench/pom.xml and, per system:
 * <ul>
 *   <li>{@code start}: the cluster is already up ({@code bin/smalti cluster up --nodes 1|2}, started by
 *       bench/hub-bench, which passes the nodes' API URLs); read {@code GET /v1/hub} of node 1 (caller) and
 *       of node 1 or 2 (callee) for endpoint and certificate; start harness B
 *       ({@code io.smalti.harness.HarnessMain}, configuration JSON on its stdin) whose command runs an echo
 *       component with {@code Components.run}: it answers operation {@code echo} with its inputs, counts
 *       casts, and answers {@code reset} and {@code stats} like {@link RelayNode}'s echo server; start
 *       harness A whose command only waits (so its local channel is free) and open that channel from this
 *       JVM with {@code ComponentConnection.open(socketA, component)}: the driver is component A and the
 *       path is A, harness A, hub(s), harness B, B.</li>
 *   <li>{@code call}: {@code context.call(Target.component(idB), "echo", payload, timeout).get()}.</li>
 *   <li>{@code castFor}: {@code context.cast(...)} in a loop; it returns false when the send queue is full,
 *       which is the back-pressure: yield and retry, count only accepted casts.</li>
 *   <li>{@code resetReceiver} / {@code received}: calls {@code reset} / {@code stats} on B; the hub keeps a
 *       sender's frames to one target on one path in
 *       order (check it does); even when a query overtakes the last casts, the rate from first and last
 *       arrival stays right, only the count is short.</li>
 *   <li>{@code close}: stop both harnesses by PID (SIGTERM: they terminate their components).</li>
 * </ul>
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
