package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code smalti nodes}: the cluster members as a node sees them. */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = "Lists the cluster's nodes: name, address, status, reachability, leader, vnodes, API URL.")
final class NodesCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JsonNode body;
        try {
            body = options.client().get(options.resolveNode(), "/v1/nodes");
        } catch (ApiClient.ApiException e) {
            throw new Smalti.Failure(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, body);
        } else {
            print(body, out);
        }
        return 0;
    }

    static void print(JsonNode body, PrintWriter out) {
        Table t = new Table("NAME", "ADDRESS", "STATUS", "REACHABLE", "LEADER", "VNODES", "API", "VERSION", "STARTED");
        for (JsonNode n : body.path("nodes")) {
            t.row(n.path("name").asText() + (n.path("self").asBoolean() ? " (asked)" : ""),
                    n.path("address").asText(), n.path("status").asText(),
                    n.path("reachable").asBoolean() ? "yes" : "NO", n.path("leader").asBoolean() ? "leader" : "",
                    n.path("vnodes").asInt(), text(n.path("apiUrl")), text(n.path("version")), text(n.path("startedAt")));
        }
        t.print(out, "");
        out.printf("%d nodes; ring epoch %d; leader %s%n", body.path("nodes").size(), body.path("ringEpoch").asLong(),
                text(body.path("leader")));
    }

    private static String text(JsonNode n) {
        return n.isNull() || n.isMissingNode() ? null : n.asText();
    }
}
