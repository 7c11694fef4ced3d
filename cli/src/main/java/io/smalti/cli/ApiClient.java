package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/** A small JSON client of one node agent's REST API. Thread-safe. */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final Duration timeout;
    private final java.util.Optional<ClientTls> tls;

    /** A client with the operator certificate found by {@link ClientTls#resolve} (no flags). */
    ApiClient(Duration timeout) {
        this(timeout, ClientTls.resolve(null, null, null, null));
    }

    /** A client presenting {@code tls} (none: requests fail, saying how to get a certificate). */
    ApiClient(Duration timeout, java.util.Optional<ClientTls> tls) {
        this.timeout = timeout;
        this.tls = tls;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout);
        tls.ifPresent(t -> b.sslContext(t.context()));
        this.http = b.build();
    }

    /** A failed call, with a message that names the node's URL and what went wrong. */
    static final class ApiException extends Exception {
        final int status;
        /** The API's error code ({@code "code"} of the error body, e.g. {@code NO_MEMBERS}), else null. */
        final String code;
        /** The API's own explanation ({@code "error"} of the error body), else null. */
        final String error;

        ApiException(String message, int status) {
            this(message, status, null, null);
        }

        ApiException(String message, int status, String code, String error) {
            super(message);
            this.status = status;
            this.code = code;
            this.error = error;
        }
    }

    /** GETs {@code path} from the node at {@code baseUrl} and parses the JSON body. */
    JsonNode get(String baseUrl, String path) throws ApiException {
        return send(baseUrl, "GET", path, null);
    }

    /** Sends a request (with a text body, or none) and parses the JSON answer. */
    JsonNode send(String baseUrl, String method, String path, String requestBody) throws ApiException {
        return send(baseUrl, method, path, requestBody, null);
    }

    /**
     * Sends a request with a body of the given content type (null: no header) and parses the JSON answer; an
     * empty 2xx answer (204) is a {@link com.fasterxml.jackson.databind.node.MissingNode}.
     */
    JsonNode send(String baseUrl, String method, String path, String requestBody, String contentType)
            throws ApiException {
        return exchange(baseUrl, method, path, requestBody == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(requestBody),
                contentType == null ? java.util.Map.of() : java.util.Map.of("Content-Type", contentType));
    }

    /**
     * POSTs a file as {@code application/octet-stream}, read as it is sent (a bundle may be 256 MiB), with extra
     * request headers (e.g. a signature), and parses the JSON answer. A node refuses a body over its limit from the
     * Content-Length and closes the connection; the client still reads that 413. Not with
     * {@code Expect: 100-continue}: JDK 17's client then waits forever on any answer but 100 (its request timeout
     * too), as a push of 300 MiB to a node showed.
     */
    JsonNode postFile(String baseUrl, String path, java.nio.file.Path file, java.util.Map<String, String> headers)
            throws ApiException {
        java.util.Map<String, String> all = new java.util.LinkedHashMap<>();
        all.put("Content-Type", "application/octet-stream");
        all.putAll(headers);
        HttpRequest.BodyPublisher body;
        try {
            body = HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw new ApiException("cannot read " + file + ": " + e.getMessage(), 0);
        }
        return exchange(baseUrl, "POST", path, body, all, "; the node closed the connection while the "
                + Components.bytes(body.contentLength()) + " of " + file.getFileName() + " were sent, as it does"
                + " when a body is over its limit (a bundle's: smalti.components.bundles.max-size, 256 MiB by default)");
    }

    private JsonNode exchange(String baseUrl, String method, String path, HttpRequest.BodyPublisher publisher,
            java.util.Map<String, String> headers) throws ApiException {
        return exchange(baseUrl, method, path, publisher, headers, "");
    }

    /** @param whenCut added to the error when the connection broke after it was made (not refused, not timed out) */
    private JsonNode exchange(String baseUrl, String method, String path, HttpRequest.BodyPublisher publisher,
            java.util.Map<String, String> headers, String whenCut) throws ApiException {
        URI uri;
        try {
            uri = URI.create(stripSlash(baseUrl) + path);
        } catch (IllegalArgumentException e) {
            throw new ApiException("bad node URL '" + baseUrl + "': " + e.getMessage(), 0);
        }
        if (tls.isEmpty() && uri.getScheme() != null && uri.getScheme().equals("https")) {
            throw new ApiException("no operator certificate: give --cert/--key/--ca, put operator.pem, operator-key.pem "
                    + "and ca.pem in " + ClientTls.configDir() + " (smalti operator cert), or start a local cluster "
                    + "(smalti cluster up)", 0);
        }
        HttpResponse<String> resp;
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).method(method, publisher);
            headers.forEach(request::header);
            resp = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw new ApiException("node at " + baseUrl + " did not accept a connection within " + secs(), 0);
        } catch (HttpTimeoutException e) {
            throw new ApiException("node at " + baseUrl + " did not answer " + path + " within " + secs(), 0);
        } catch (ConnectException e) {
            throw new ApiException("cannot reach a node at " + baseUrl + " (connection refused: is it running?)", 0);
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw new ApiException("TLS with the node at " + baseUrl + " failed (" + e.getMessage() + "): is the "
                    + "operator certificate" + tls.map(t -> " " + t.certificate()).orElse("") + " from this cluster's CA, "
                    + "and still valid?", 0);
        } catch (IOException e) {
            throw new ApiException("cannot reach a node at " + baseUrl + ": " + e + whenCut, 0);
        } catch (IllegalArgumentException e) {
            throw new ApiException("bad node URL '" + baseUrl + "': " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted", 0);
        }
        boolean ok = resp.statusCode() / 100 == 2;
        if (resp.body().isBlank()) {
            if (ok) {
                return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
            }
            throw new ApiException("node at " + baseUrl + " answered " + path + " with " + resp.statusCode()
                    + " and no explanation", resp.statusCode());
        }
        JsonNode body;
        try {
            body = JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new ApiException("node at " + baseUrl + " answered " + path + " with something that is not JSON"
                    + " (HTTP " + resp.statusCode() + ")", resp.statusCode());
        }
        if (!ok) {
            String error = body.path("error").asText("HTTP " + resp.statusCode());
            // The hub's errors carry a code (NO_MEMBERS, EXPIRED, ...) that says more than the HTTP status.
            String code = body.path("code").isTextual() ? body.path("code").asText() : null;
            throw new ApiException("node at " + baseUrl + " answered " + path + " with " + resp.statusCode()
                    + (code == null ? "" : " " + code) + ": " + error, resp.statusCode(), code,
                    body.path("error").isTextual() ? error : null);
        }
        return body;
    }

    private String secs() {
        return timeout.toMillis() / 1000.0 + "s";
    }

    static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
