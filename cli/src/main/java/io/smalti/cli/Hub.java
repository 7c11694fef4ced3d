package io.smalti.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** Helpers shared by the commands that use the hub through the REST API (call, cast, groups, attrs). */
final class Hub {
    private Hub() {
    }

    /** The options of {@code call} and {@code cast} that say what to send where. */
    static final class MessageOptions {
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "TARGET", description = "Component id, group:NAME, or group name.")
        String target;

        @picocli.CommandLine.Parameters(index = "1", paramLabel = "OPERATION", description = "The operation to run.")
        String operation;

        @Option(names = "--input", paramLabel = "JSON", defaultValue = "null",
                description = "The inputs, as JSON (default: ${DEFAULT-VALUE}); a string must be quoted: "
                        + "--input '\"hello\"'.")
        String input;

        @Option(names = "--all", description = "To a group: send to every member instead of one chosen by the hub.")
        boolean all;

        @Option(names = "--object", paramLabel = "NAME", defaultValue = "",
                description = "The component's object to address (default: the component itself).")
        String object;

        /** The body of {@code POST /v1/call} or {@code /v1/cast}. */
        ObjectNode body(CommandSpec spec, java.time.Duration timeout) {
            ObjectNode b = ApiClient.JSON.createObjectNode();
            b.put("target", target).put("selector", all ? "all" : "any").put("object", object)
                    .put("operation", operation);
            b.set("input", parseInput(spec, input));
            b.put("timeoutMs", timeout.toMillis());
            return b;
        }
    }

    /** Parses {@code --input}; bad JSON is a usage error that shows how to pass a plain string. */
    static JsonNode parseInput(CommandSpec spec, String input) {
        try {
            JsonNode n = ApiClient.JSON.readTree(input);
            if (n == null || n.isMissingNode()) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--input is empty: give a JSON value, e.g. --input null, --input 42, --input '\"hello\"'");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--input is not valid JSON ("
                    + e.getOriginalMessage() + "): a string must be quoted, e.g. --input '\"" + input + "\"'");
        }
    }

    /** One path segment, percent-encoded (a group name may hold '/', '?', spaces: all are escaped). */
    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Sends one request, turning an API failure into the user's error message. */
    static JsonNode request(ApiClient api, Smalti.NodeOptions options, String method, String path, String body,
            String contentType) {
        try {
            return api.send(options.resolveNode(), method, path, body, contentType);
        } catch (ApiClient.ApiException e) {
            throw new Smalti.Failure(e.getMessage());
        }
    }

    static JsonNode get(Smalti.NodeOptions options, String path) {
        return request(options.client(), options, "GET", path, null, null);
    }

    /**
     * A JSON value as one table cell: strings as their text, anything else as compact JSON; control characters
     * escaped so that one value stays on one line.
     */
    static String cell(JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return null;
        }
        String s = value.isTextual() ? value.asText() : value.toString();
        return s.isEmpty() ? "(empty)" : oneLine(s);
    }

    /** Escapes control characters (newlines, tabs, ESC...) so that a value cannot break or colour the table. */
    static String oneLine(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** A duration as a person reads it: 0.85ms, 12.30ms, 1.50s (ASCII only: terminals in the C locale). */
    static String micros(long micros) {
        if (micros < 1_000_000) {
            return String.format(java.util.Locale.ROOT, "%.2fms", micros / 1000.0);
        }
        return String.format(java.util.Locale.ROOT, "%.2fs", micros / 1_000_000.0);
    }

    static String duration(Duration d) {
        return micros(d.toNanos() / 1000);
    }
}
