package io.smalti.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Measures a ring change's handoff rate from outside: polls a node's {@code GET /v1/ring} until the ring
 * has the expected number of nodes and every transfer is done, then prints how many records the
 * receiving nodes pulled and how fast (records over the span from the first start to the last finish).
 * Counts only transfers that started after SINCE (milliseconds since the epoch; default: when it
 * started, less a second). Each node
 * publishes its transfers about once a second, so it waits for three quiet seconds before it ends.
 *
 * <pre>
 * java -cp benchmarks.jar io.smalti.bench.load.HandoffWatch URL NODES TIMEOUT_SECONDS [SINCE]
 * </pre>
 */
public final class HandoffWatch {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A finished transfer as its receiving node reported it. */
    record Done(String kind, long records, Instant started, Instant finished) {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3 && args.length != 4) {
            System.err.println("usage: HandoffWatch URL NODES TIMEOUT_SECONDS [SINCE_EPOCH_MILLIS]");
            System.exit(2);
        }
        String url = args[0];
        int nodes = Integer.parseInt(args[1]);
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[2])).toNanos();
        // HTTPS with the operator certificate of the cluster bench/kv-cluster brought up ($SMALTI_STATE_DIR/operator).
        HttpClient http = io.smalti.bench.OperatorTls.http(io.smalti.bench.OperatorTls.defaultDir());
        Instant since = args.length == 4 ? Instant.ofEpochMilli(Long.parseLong(args[3])) : Instant.now().minusSeconds(1);
        Map<String, Done> done = new LinkedHashMap<>();
        int polls = 0;
        long quietSince = 0;
        int lastCount = -1;
        while (true) {
            if (System.nanoTime() > deadline) {
                System.err.println("handoffs did not finish in time; seen so far: " + done.size());
                System.exit(1);
            }
            JsonNode ring;
            try {
                HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/ring"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                ring = resp.statusCode() == 200 ? JSON.readTree(resp.body()) : null;
            } catch (java.io.IOException e) {
                ring = null;
            }
            if (ring != null) {
                boolean active = false;
                for (JsonNode t : ring.path("transfers")) {
                    if (!"done".equals(t.path("state").asText())) {
                        active = true;
                    } else if (t.path("reportedBy").asText().equals(t.path("to").asText())
                            && !Instant.parse(t.path("startedAt").asText()).isBefore(since)) {
                        done.put(t.path("service").asText() + "/" + t.path("vnode").asInt() + "/" + t.path("from").asText()
                                        + ">" + t.path("to").asText() + "@" + t.path("startedAt").asText(),
                                new Done(t.path("kind").asText(), t.path("records").asLong(),
                                        Instant.parse(t.path("startedAt").asText()), Instant.parse(t.path("finishedAt").asText())));
                    }
                }
                if (polls++ % 10 == 0) {
                    System.err.printf("  ring epoch %d, %d nodes, %d transfers done, %s%n", ring.path("epoch").asLong(),
                            ring.path("nodes").size(), done.size(), active ? "handoffs running" : "idle");
                }
                boolean quiet = !active && ring.path("nodes").size() == nodes && !done.isEmpty() && done.size() == lastCount;
                lastCount = done.size();
                if (!quiet) {
                    quietSince = 0;
                } else if (quietSince == 0) {
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > Duration.ofSeconds(3).toNanos()) {
                    break;
                }
            }
            Thread.sleep(200);
        }
        long records = done.values().stream().mapToLong(Done::records).sum();
        Instant first = done.values().stream().map(Done::started).min(Instant::compareTo).orElseThrow();
        Instant last = done.values().stream().map(Done::finished).max(Instant::compareTo).orElseThrow();
        double seconds = Math.max(0.001, Duration.between(first, last).toMillis() / 1000.0);
        Map<String, long[]> byKind = new LinkedHashMap<>();
        done.values().forEach(d -> {
            long[] c = byKind.computeIfAbsent(d.kind(), k -> new long[2]);
            c[0]++;
            c[1] += d.records();
        });
        byKind.forEach((kind, c) -> System.out.printf(Locale.ROOT, "  %-9s %3d transfers %9d records%n", kind, c[0], c[1]));
        System.out.printf(Locale.ROOT, "handoff: %d transfers, %d records in %.1f s = %.0f records/s%n",
                done.size(), records, seconds, records / seconds);
    }

    private HandoffWatch() {}
}
