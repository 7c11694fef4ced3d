package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code smalti node drain|undrain NAME}. ({@code smalti node start} never gets here: the launcher script runs the
 * node agent for it.)
 */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Takes a node out of service and back.",
                "(smalti node start, which runs a node agent, is handled by the bin/smalti launcher: "
                        + "see smalti node start --help.)"},
        subcommands = {NodeCommand.Drain.class, NodeCommand.Undrain.class})
final class NodeCommand {

    /** POST /v1/nodes/NAME/ACTION and one line saying what became of the node ({@code --json}: the body). */
    abstract static class Change implements Callable<Integer> {
        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Parameters(paramLabel = "NAME", description = "The node's name (smalti nodes lists them).")
        String name;

        @Spec
        CommandSpec spec;

        abstract String action();

        /** The line printed after the node's name. */
        abstract String outcome(JsonNode body);

        @Override
        public Integer call() {
            JsonNode body;
            try {
                body = options.client().send(options.resolveNode(), "POST",
                        "/v1/nodes/" + Hub.segment(name) + "/" + action(), null, null);
            } catch (ApiClient.ApiException e) {
                // An unknown node: the API's answer names it and the known ones, which is all the user needs.
                throw new Smalti.Failure(e.status == 404 && e.error != null ? Hub.oneLine(e.error) : e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (options.json) {
                Smalti.printJson(out, body);
            } else {
                out.printf("node %s is %s%n", Hub.oneLine(body.path("node").asText(name)), outcome(body));
            }
            return 0;
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Marks the node unavailable: it takes no new instances and its instances move to other "
                    + "nodes. It stays a cluster member; smalti node undrain brings it back.")
    static final class Drain extends Change {
        @Override
        String action() {
            return "drain";
        }

        @Override
        String outcome(JsonNode body) {
            return Hub.oneLine(body.path("state").asText("unavailable")) + "; moving "
                    + Components.plural(body.path("moving").asLong(), "instance") + " to other nodes";
        }
    }

    @Command(name = "undrain", mixinStandardHelpOptions = true,
            description = "Puts a drained node back in service: it takes new instances again.")
    static final class Undrain extends Change {
        @Override
        String action() {
            return "undrain";
        }

        @Override
        String outcome(JsonNode body) {
            String state = Components.text(body.path("state"));
            return state == null ? "back in service" : Hub.oneLine(state);
        }
    }
}
