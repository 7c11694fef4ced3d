package io.smalti.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.smalti.credentials.ca.Pem;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * How the benchmarks reach a node's REST API now that it is HTTPS with a required client certificate: the operator
 * identity in a directory ({@code operator.pem}, {@code operator-key.pem}, {@code ca.pem}, as {@code smalti cluster
 * up} writes to {@code <state>/operator} and {@code smalti cluster init --operator-dir} to its directory), an HTTP
 * client that presents it and trusts only that cluster CA, and one-time hub tokens for harnesses the benchmarks
 * start themselves. The same approach as the distribution's tests ({@code dist/.../Dist.java}). Stateless; the
 * clients it makes are thread-safe.
 */
public final class OperatorTls {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OperatorTls() {
    }

    /** A TLS context presenting the operator certificate in {@code dir} and trusting only its {@code ca.pem}. */
    public static SSLContext sslContext(Path dir) {
        try {
            X509Certificate cert = Pem.parseCertificate(Files.readAllBytes(dir.resolve("operator.pem")));
            X509Certificate ca = Pem.parseCertificate(Files.readAllBytes(dir.resolve("ca.pem")));
            PrivateKey key = Pem.parsePrivateKey(Files.readString(dir.resolve("operator-key.pem")));
            return io.smalti.credentials.ca.TlsContexts.context("TLS", key, cert, ca);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException("cannot load the operator certificate in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** An HTTPS client presenting the operator certificate in {@code dir}. */
    public static HttpClient http(Path dir) {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).sslContext(sslContext(dir)).build();
    }

    /** The same, over HTTP/1.1 only (the load drivers keep many requests in flight on a few connections each). */
    public static HttpClient http11(Path dir) {
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1)
                .sslContext(sslContext(dir)).build();
    }

    /**
     * The operator directory named by {@code -Dsmalti.bench.operator}, else {@code $SMALTI_STATE_DIR/operator} (the
     * local cluster the calling script brought up).
     */
    public static Path defaultDir() {
        String prop = System.getProperty("smalti.bench.operator");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String state = System.getenv("SMALTI_STATE_DIR");
        if (state != null && !state.isBlank()) {
            return Path.of(state, "operator");
        }
        throw new IllegalStateException("no operator certificate: set -Dsmalti.bench.operator=DIR or SMALTI_STATE_DIR");
    }

    /**
     * A one-time token from the node at {@code api} for a harness of {@code component} connecting to that node's hub
     * ({@code POST /v1/hub/tokens}; valid for the node's {@code token-expiry}, 60 s by default, once).
     */
    public static String hubToken(HttpClient http, String api, String component) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + "/v1/hub/tokens"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("component", component).toString()))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IOException("POST " + api + "/v1/hub/tokens answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body()).path("token").asText();
    }
}
