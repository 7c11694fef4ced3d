package io.smalti.bench.hub;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Nats;
import java.nio.ByteBuffer;

/**
 * The receiving process of the NATS reference: answers requests on {@code bench.call} with their own
 * data, counts messages on {@code bench.cast}, and answers {@code bench.reset} and {@code bench.stats}.
 * One dispatcher serves all subjects, so a query is handled after every message published before it.
 *
 * <pre>
 * NatsResponder nats://127.0.0.1:PORT
 * </pre>
 */
public final class NatsResponder {

    private static long count;
    private static long first;
    private static long last;

    public static void main(String[] args) throws Exception {
        Child.exitWithParent();
        Connection nc = Nats.connect(NatsSystem.options(args[0]));
        // Only the dispatcher's thread touches the counters.
        Dispatcher d = nc.createDispatcher(msg -> {
            switch (msg.getSubject()) {
                case "bench.cast" -> {
                    last = System.nanoTime();
                    if (count++ == 0) {
                        first = last;
                    }
                }
                case "bench.call" -> nc.publish(msg.getReplyTo(), msg.getData());
                case "bench.reset" -> {
                    count = 0;
                    first = 0;
                    last = 0;
                    nc.publish(msg.getReplyTo(), new byte[0]);
                }
                case "bench.stats" -> nc.publish(msg.getReplyTo(),
                        ByteBuffer.allocate(24).putLong(count).putLong(first).putLong(last).array());
                default -> { }
            }
        });
        // Pending limits off: a slow receiver would otherwise drop casts client-side; the server still
        // drops for a consumer that falls too far behind, and the benchmark reports sent against received.
        d.setPendingLimits(-1, -1);
        d.subscribe("bench.cast").subscribe("bench.call").subscribe("bench.reset").subscribe("bench.stats");
        nc.flush(java.time.Duration.ofSeconds(10));
        System.out.println("READY");
        System.out.flush();
        Thread.currentThread().join();
    }

    private NatsResponder() {}
}
