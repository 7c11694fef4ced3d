package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Locale;
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
        // Nodes that run components also report their state, load and instances: columns shown when any node does.
        boolean runtime = false;
        for (JsonNode n : body.path("nodes")) {
            runtime |= n.has("state") || n.has("metrics") || n.has("instances");
        }
        Table t = runtime
                ? new Table("NAME", "ADDRESS", "STATUS", "REACHABLE", "LEADER", "VNODES", "API", "VERSION", "STARTED",
                        "STATE", "CPU", "MEM", "LOAD", "INSTANCES")
                : new Table("NAME", "ADDRESS", "STATUS", "REACHABLE", "LEADER", "VNODES", "API", "VERSION", "STARTED");
        for (JsonNode n : body.path("nodes")) {
            JsonNode m = n.path("metrics");
            t.row(n.path("name").asText() + (n.path("self").asBoolean() ? " (asked)" : ""),
                    n.path("address").asText(), n.path("status").asText(),
                    n.path("reachable").asBoolean() ? "yes" : "NO", n.path("leader").asBoolean() ? "leader" : "",
                    n.path("vnodes").asInt(), text(n.path("apiUrl")), text(n.path("version")), text(n.path("startedAt")),
                    text(n.path("state")), cpu(m), memory(m),
                    m.path("load1").isNumber() ? String.format(Locale.ROOT, "%.2f", m.path("load1").asDouble()) : null,
                    text(n.path("instances")));
        }
        t.print(out, "");
        out.printf("%d nodes; ring epoch %d; leader %s%n", body.path("nodes").size(), body.path("ringEpoch").asLong(),
                text(body.path("leader")));
        for (JsonNode d : body.path("departed")) {
            out.printf("departed: %s, %s since %s (%s)%n", d.path("name").asText(), d.path("state").asText(),
                    d.path("since").asText(), d.path("reason").asText());
        }
    }

    /** The busy share of the node's CPUs ({@code cpuBusy}, a fraction 0..1) as a percentage. */
    static String cpu(JsonNode metrics) {
        JsonNode busy = metrics.path("cpuBusy");
        return busy.isNumber() ? Math.round(busy.asDouble() * 100) + "%" : null;
    }

    /** Available/total memory in GiB: "5.2/15.6 GiB". */
    static String memory(JsonNode metrics) {
        JsonNode available = metrics.path("memAvailableBytes");
        JsonNode total = metrics.path("memTotalBytes");
        if (!available.isNumber() || !total.isNumber()) {
            return null;
        }
        double gib = 1024.0 * 1024 * 1024;
        return String.format(Locale.ROOT, "%.1f/%.1f GiB", available.asDouble() / gib, total.asDouble() / gib);
    }

    private static String text(JsonNode n) {
        return n.isNull() || n.isMissingNode() ? null : n.asText();
    }
}
