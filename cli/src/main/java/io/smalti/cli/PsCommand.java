package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code smalti ps}: the component instances of the cluster, or of one type. */
@Command(name = "ps", mixinStandardHelpOptions = true,
        description = {"Lists the component instances: id, type, node, state, how long it has been available, memory, "
                + "address. Destroyed instances are hidden unless --all.",
                "INSTANCE shows the last 12 hex digits of each id (its random part); --no-trunc or --json show the "
                        + "full ids, which smalti destroy takes."})
final class PsCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Option(names = "--type", paramLabel = "ID|NAME", description = "Only the instances of this type (id or name).")
    String type;

    @Option(names = {"-a", "--all"}, description = "Show destroyed instances too.")
    boolean all;

    @Option(names = "--no-trunc", description = "Show full instance ids.")
    boolean noTrunc;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ApiClient api = options.client();
        String path = "/v1/instances";
        if (type != null) {
            path += "?type=" + Hub.segment(Components.resolveType(api, options, type));
        }
        JsonNode body = Hub.request(api, options, "GET", path, null, null);
        List<JsonNode> shown = new ArrayList<>();
        int hidden = 0;
        for (JsonNode i : body.path("instances")) {
            if (all || !"destroyed".equals(i.path("state").asText())) {
                shown.add(i);
            } else {
                hidden++;
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            // The API's document, less the destroyed instances unless --all.
            ObjectNode doc = body.deepCopy();
            ArrayNode list = doc.putArray("instances");
            shown.forEach(list::add);
            Smalti.printJson(out, doc);
        } else {
            print(shown, out, Instant.now(), noTrunc);
            out.println(Components.plural(shown.size(), "instance")
                    + (hidden == 0 ? "" : " (" + hidden + " destroyed not shown: --all shows them)"));
        }
        return 0;
    }

    /** The instances table: INSTANCE, TYPE, NODE, STATE, UPTIME, MEMORY, ADDRESS. */
    static void print(List<JsonNode> instances, PrintWriter out, Instant now, boolean fullIds) {
        Table t = new Table("INSTANCE", "TYPE", "NODE", "STATE", "UPTIME", "MEMORY", "ADDRESS");
        for (JsonNode i : instances) {
            String id = i.path("id").asText();
            String typeName = Components.text(i.path("typeName"));
            t.row(fullIds ? Hub.oneLine(id) : Components.shortId(id),
                    typeName != null ? Hub.oneLine(typeName) : Components.shortId(Components.text(i.path("type"))),
                    oneLine(Components.text(i.path("node"))), oneLine(Components.text(i.path("state"))),
                    uptime(i, now), Components.mebibytes(i.path("memoryBytes")),
                    oneLine(Components.text(i.path("address"))));
        }
        t.print(out, "");
    }

    /** How long an available instance has been available (since its {@code since}); null for other states. */
    static String uptime(JsonNode instance, Instant now) {
        if (!"available".equals(instance.path("state").asText())) {
            return null;
        }
        Instant since = Components.instant(instance.path("since"));
        return since == null ? null : Components.human(Duration.between(since, now));
    }

    private static String oneLine(String s) {
        return s == null ? null : Hub.oneLine(s);
    }
}
