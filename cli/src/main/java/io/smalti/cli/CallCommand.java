package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code smalti call}: a request to a component or group through the hub, and its answers. */
@Command(name = "call", mixinStandardHelpOptions = true,
        description = {"Calls OPERATION on a component or group through the hub and shows every answer.",
                "TARGET: 40 hex digits = a component id; group:NAME or any other text = a group name. "
                        + "A group call goes to one member chosen by the hub, or to every member with --all.",
                "--timeout is the call's timeout: the hub answers EXPIRED after it, and with --all gathers "
                        + "the answers that arrived until then."},
        footer = {"", "Exit status 1 (with the reason on stderr) when the hub refused or could not deliver the call, "
                + "or when every answer is an error."})
final class CallCommand implements Callable<Integer> {
    /** How much longer than the call's timeout the HTTP request waits, so that the hub's EXPIRED gets through. */
    static final Duration HTTP_SLACK = Duration.ofSeconds(5);

    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Mixin
    Hub.MessageOptions message = new Hub.MessageOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ObjectNode body = message.body(spec, options.timeout);
        ApiClient api = options.client(options.timeout.plus(HTTP_SLACK));
        JsonNode answer = Hub.request(api, options, "POST", "/v1/call", body.toString(), "application/json");
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, answer);
        } else {
            print(answer, out);
        }
        String failure = failure(answer, options.timeout);
        if (failure != null) {
            spec.commandLine().getErr().println(spec.qualifiedName() + ": " + failure);
            return 1;
        }
        return 0;
    }

    static void print(JsonNode answer, PrintWriter out) {
        Table t = new Table("FROM", "OUTPUT", "ERROR");
        for (JsonNode r : answer.path("results")) {
            JsonNode error = r.path("error");
            boolean failed = error.isObject();
            // A failed result has no output worth showing; a successful one always shows its output, even null.
            t.row(r.path("from").asText(), failed ? null : Hub.cell(r.path("output")), failed ? error(error) : null);
        }
        t.print(out, "");
        int results = answer.path("results").size();
        out.printf("%d %s from %d asked in %s%n", results, results == 1 ? "answer" : "answers",
                answer.path("asked").asInt(), Hub.micros(answer.path("tookMicros").asLong()));
    }

    /** Why the call as a whole failed (no answer, or only errors), else null. */
    static String failure(JsonNode answer, Duration timeout) {
        JsonNode results = answer.path("results");
        if (results.isEmpty()) {
            return "no answer from the " + answer.path("asked").asInt() + " asked within " + Hub.duration(timeout);
        }
        for (JsonNode r : results) {
            if (!r.path("error").isObject()) {
                return null;
            }
        }
        return results.size() == 1 ? "the call failed: " + error(results.get(0).path("error"))
                : "every answer is an error";
    }

    static String error(JsonNode error) {
        String message = error.path("message").asText("");
        return error.path("code").asText("ERROR") + (message.isEmpty() ? "" : ": " + Hub.oneLine(message));
    }
}
