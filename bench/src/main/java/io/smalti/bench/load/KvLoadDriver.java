package io.smalti.bench.load;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load driver for the replicated key-value service through the REST API: keeps {@code concurrency}
 * requests in flight against the given nodes (round-robin) for a while, then prints throughput and
 * latency percentiles of acknowledged operations.
 *
 * <pre>
 * java -cp benchmarks.jar io.smalti.bench.load.KvLoadDriver write|read|fill SECONDS CONCURRENCY KEYS URL...
 * </pre>
 * Writes use keys {@code bench-0 .. bench-(KEYS-1)} (cycling) with 100-byte values and W from the
 * node's default; reads pick keys at random from the same range (write them first); fill writes each
 * key once and stops (SECONDS bounds it).
 */
public final class KvLoadDriver {

    /** Latencies of one run, and how many operations failed. */
    public record Result(String op, long ok, long failed, double seconds, long[] nanos) {
        public double perSecond() {
            return ok / seconds;
        }

        public double percentileMillis(double p) {
            if (nanos.length == 0) {
                return Double.NaN;
            }
            return nanos[(int) Math.min(nanos.length - 1, Math.ceil(p / 100.0 * nanos.length) - 1)] / 1e6;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-5s %9.0f ops/s  ok %d  failed %d  p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms",
                    op, perSecond(), ok, failed, percentileMillis(50), percentileMillis(99), percentileMillis(99.9));
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: KvLoadDriver write|read|fill SECONDS CONCURRENCY KEYS URL...");
            System.exit(2);
        }
        List<String> urls = Arrays.asList(args).subList(4, args.length);
        System.out.println(run(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), urls));
    }

    public static Result run(String op, int seconds, int concurrency, int keys, List<String> urls) throws Exception {
        // HTTPS with the operator certificate of the cluster bench/kv-cluster brought up ($SMALTI_STATE_DIR/operator).
        HttpClient http = io.smalti.bench.OperatorTls.http11(io.smalti.bench.OperatorTls.defaultDir());
        String value = "x".repeat(100);
        Semaphore slots = new Semaphore(concurrency);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long[] samples = new long[4_000_000];
        AtomicLong sampleCount = new AtomicLong();
        long start = System.nanoTime();
        long end = start + Duration.ofSeconds(seconds).toNanos();
        boolean fill = op.equals("fill");
        boolean write = fill || op.equals("write");
        if (!write && !op.equals("read")) {
            throw new IllegalArgumentException("operation must be write, read or fill, not " + op);
        }
        long i = 0;
        while (System.nanoTime() < end && !(fill && i >= keys)) {
            slots.acquire();
            String url = urls.get((int) (i % urls.size()));
            String key = "bench-" + (write ? i % keys : java.util.concurrent.ThreadLocalRandom.current().nextInt(keys));
            i++;
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url + "/v1/debug/kv/" + key)).timeout(Duration.ofSeconds(30));
            req = write ? req.PUT(HttpRequest.BodyPublishers.ofString(value)) : req.GET();
            long t0 = System.nanoTime();
            CompletableFuture<HttpResponse<Void>> f = http.sendAsync(req.build(), HttpResponse.BodyHandlers.discarding());
            f.whenComplete((resp, err) -> {
                long t = System.nanoTime() - t0;
                if (err == null && resp.statusCode() == 200) {
                    ok.incrementAndGet();
                    long n = sampleCount.getAndIncrement();
                    if (n < samples.length) {
                        samples[(int) n] = t;
                    }
                } else {
                    failed.incrementAndGet();
                }
                slots.release();
            });
        }
        slots.acquire(concurrency);
        double secs = (System.nanoTime() - start) / 1e9;
        long[] lat = Arrays.copyOf(samples, (int) Math.min(sampleCount.get(), samples.length));
        Arrays.sort(lat);
        return new Result(op, ok.get(), failed.get(), secs, lat);
    }

    private KvLoadDriver() {}
}
