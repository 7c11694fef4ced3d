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

    ApiClient(Duration timeout) {
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** A failed call, with a message that names the node's URL and what went wrong. */
    static final class ApiException extends Exception {
        final int status;

        ApiException(String message, int status) {
            super(message);
            this.status = status;
        }
    }

    /** GETs {@code path} from the node at {@code baseUrl} and parses the JSON body. */
    JsonNode get(String baseUrl, String path) throws ApiException {
        return send(baseUrl, "GET", path, null);
    }

    /** Sends a request (with a text body, or none) and parses the JSON answer. */
    JsonNode send(String baseUrl, String method, String path, String requestBody) throws ApiException {
        URI uri;
        try {
            uri = URI.create(stripSlash(baseUrl) + path);
        } catch (IllegalArgumentException e) {
            throw new ApiException("bad node URL '" + baseUrl + "': " + e.getMessage(), 0);
        }
        HttpResponse<String> resp;
        try {
            HttpRequest.BodyPublisher publisher = requestBody == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(requestBody);
            resp = http.send(HttpRequest.newBuilder(uri).timeout(timeout).method(method, publisher).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw new ApiException("node at " + baseUrl + " did not accept a connection within " + secs(), 0);
        } catch (HttpTimeoutException e) {
            throw new ApiException("node at " + baseUrl + " did not answer " + path + " within " + secs(), 0);
        } catch (ConnectException e) {
            throw new ApiException("cannot reach a node at " + baseUrl + " (connection refused: is it running?)", 0);
        } catch (IOException e) {
            throw new ApiException("cannot reach a node at " + baseUrl + ": " + e, 0);
        } catch (IllegalArgumentException e) {
            throw new ApiException("bad node URL '" + baseUrl + "': " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted", 0);
        }
        JsonNode body;
        try {
            body = JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new ApiException("node at " + baseUrl + " answered " + path + " with something that is not JSON"
                    + " (HTTP " + resp.statusCode() + ")", resp.statusCode());
        }
        if (resp.statusCode() / 100 != 2) {
            String error = body.path("error").asText("HTTP " + resp.statusCode());
            throw new ApiException("node at " + baseUrl + " answered " + path + " with " + resp.statusCode() + ": "
                    + error, resp.statusCode());
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
