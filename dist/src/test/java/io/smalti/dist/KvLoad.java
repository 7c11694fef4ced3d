package io.smalti.dist;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client of the debug key-value API for tests: writes and reads through chosen nodes, remembering every
 * acknowledged write (key, value, timestamp), and counts acknowledged writes that a later read does not
 * return: a read "loses" a write when the key is missing or carries an older timestamp.
 */
final class KvLoad {
    /** One acknowledged write. */
    record Acked(String value, long timestamp, int vnode, String via) {}

    /** A read's outcome: status 200 with a value, 404, or an error. */
    record ReadResult(int status, String value, long timestamp, String error) {}

    private final HttpClient http = Dist.http();
    /** The newest acknowledged write of each key. */
    final Map<String, Acked> acked = new ConcurrentHashMap<>();

    /** Keys with a write that was not acknowledged: it may or may not have been stored. */
    final java.util.Set<String> unacknowledged = ConcurrentHashMap.newKeySet();

    /** Keys that may exist although no write of them was acknowledged. */
    int uncertain() {
        return (int) unacknowledged.stream().filter(k -> !acked.containsKey(k)).count();
    }

    /** Why recent writes were not acknowledged (status and error), counted. */
    final Map<String, Integer> writeFailures = new ConcurrentHashMap<>();

    /** PUTs through {@code api}; returns the acknowledgement, or null if the write was not acknowledged. */
    Acked put(String api, String key, String value, int w) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(api, key, "w=" + w)).timeout(Duration.ofSeconds(10))
                    .PUT(HttpRequest.BodyPublishers.ofString(value)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode j = Dist.JSON.readTree(r.body());
            if (r.statusCode() != 200) {
                unacknowledged.add(key);
                writeFailures.merge(r.statusCode() + " " + j.path("error").asText().replaceAll("kv/\\d+", "kv/N")
                        .replaceAll("\\d+ of", "N of").replaceAll("via n\\d", "via nX"), 1, Integer::sum);
                return null;
            }
            Acked a = new Acked(value, j.path("timestamp").asLong(), j.path("vnode").asInt(), api);
            acked.merge(key, a, (old, neu) -> neu.timestamp() > old.timestamp() ? neu : old);
            return a;
        } catch (Exception e) {
            unacknowledged.add(key);
            writeFailures.merge(e.getClass().getSimpleName(), 1, Integer::sum);
            return null;
        }
    }

    ReadResult get(String api, String key) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(api, key, "r=2")).timeout(Duration.ofSeconds(10))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            JsonNode j = Dist.JSON.readTree(r.body());
            if (r.statusCode() == 200) {
                return new ReadResult(200, j.path("value").asText(), j.path("timestamp").asLong(), null);
            }
            return new ReadResult(r.statusCode(), null, 0, j.path("error").asText());
        } catch (Exception e) {
            return new ReadResult(0, null, 0, e.toString());
        }
    }

    /** Writes {@code count} keys {@code prefix-i} through nodes chosen by {@code via}, {@code parallel} at a time. */
    int writeMany(String prefix, int count, Supplier<String> via, int parallel) throws Exception {
        Semaphore slots = new Semaphore(parallel);
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = prefix + "-" + i;
            String api = via.get();
            slots.acquire();
            all.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return put(api, key, "value-of-" + key, 2) != null;
                } finally {
                    slots.release();
                }
            }));
        }
        int failed = 0;
        for (CompletableFuture<Boolean> f : all) {
            if (!f.get(60, TimeUnit.SECONDS)) {
                failed++;
            }
        }
        return failed;
    }

    /**
     * Reads every acknowledged key through nodes chosen by {@code via} and returns the keys whose
     * acknowledged write is lost (missing, or an older timestamp than acknowledged).
     */
    List<String> lost(Supplier<String> via, int parallel) throws Exception {
        Semaphore slots = new Semaphore(parallel);
        List<String> lost = java.util.Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (var e : acked.entrySet()) {
            String api = via.get();
            slots.acquire();
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    ReadResult r = get(api, e.getKey());
                    if (r.status() == 0 || r.status() >= 500) {
                        r = get(api, e.getKey()); // one retry: a transient error is not a loss
                    }
                    if (r.status() != 200 || r.timestamp() < e.getValue().timestamp()) {
                        lost.add(e.getKey() + " (acknowledged at " + e.getValue().timestamp() + " via " + e.getValue().via()
                                + "; read " + r + ")");
                    }
                } finally {
                    slots.release();
                }
            }));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(60, TimeUnit.SECONDS);
        }
        return lost;
    }

    private static URI uri(String api, String key, String query) {
        return URI.create(api + "/v1/debug/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8) + "?" + query);
    }
}
