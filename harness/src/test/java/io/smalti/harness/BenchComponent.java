package io.smalti.harness;

import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentContext;
import io.smalti.harness.sdk.Components;
import io.smalti.harness.sdk.Request;
import io.smalti.harness.sdk.Target;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Throughput probe: casts BENCH_CASTS small casts to itself (the hub stub reflects them), at most BENCH_WINDOW (5000) in
 * flight, prints "casts/s N delivered M" and exits 0.
 */
public final class BenchComponent implements Component {
    private static final long WINDOW = Long.parseLong(System.getenv().getOrDefault("BENCH_WINDOW", "5000"));
    private final AtomicLong received = new AtomicLong();

    public static void main(String[] args) {
        Components.run(new BenchComponent());
    }

    @Override
    public void initialize(ComponentContext ctx) {
        long total = Long.parseLong(System.getenv().getOrDefault("BENCH_CASTS", "1000000"));
        Thread t = new Thread(() -> {
            byte[] payload = new byte[32];
            Target self = Target.component(ctx.id());
            long start = System.nanoTime();
            long sent = 0;
            long lost = 0; // casts shed on the way (full queues drop casts silently): no longer awaited
            long lastProgress = System.nanoTime();
            long lastReceived = 0;
            while (sent < total) {
                long r = received.get();
                if (sent - r - lost < WINDOW && ctx.cast(self, "b", payload)) {
                    sent++;
                } else {
                    if (r != lastReceived) {
                        lastReceived = r;
                        lastProgress = System.nanoTime();
                    } else if (System.nanoTime() - lastProgress > 1_000_000_000L) {
                        lost = sent - r;
                        lastProgress = System.nanoTime();
                    }
                    // Sleep, not spin: on a small machine a spinning sender steals the CPU the relay needs.
                    java.util.concurrent.locks.LockSupport.parkNanos(20_000);
                }
                if (System.nanoTime() - start > 60_000_000_000L) {
                    break;
                }
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (received.get() < sent && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("casts/s %.0f delivered %d of %d (%d in flight at most)%n", received.get() / seconds,
                    received.get(), sent, WINDOW);
            System.out.flush();
            System.exit(0);
        }, "bench-sender");
        t.start();
    }

    @Override
    public void cast(Request request) {
        received.incrementAndGet();
    }
}
