package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code smalti cast}: a one-way message to a component or group through the hub. */
@Command(name = "cast", mixinStandardHelpOptions = true,
        description = {"Casts OPERATION to a component or group through the hub: no answer is awaited.",
                "TARGET: 40 hex digits = a component id; group:NAME or any other text = a group name.",
                "Exit status 1 when the hub could not deliver it (unknown target, no members, overloaded); "
                        + "delivery to the component itself is best effort."})
final class CastCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Mixin
    Hub.MessageOptions message = new Hub.MessageOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        // The cast is useless to the receiver after --timeout too (it may sit in a queue on the way).
        String body = message.body(spec, options.timeout).toString();
        JsonNode answer = Hub.request(options.client(), options, "POST", "/v1/cast", body, "application/json");
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, answer);
        } else {
            int sent = answer.path("sent").asInt();
            out.printf("cast %s to %s: sent to %d %s%n", Hub.oneLine(message.operation), Hub.oneLine(message.target), sent,
                    sent == 1 ? "component" : "components");
        }
        return 0;
    }
}
