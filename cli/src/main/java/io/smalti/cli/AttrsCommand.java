package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti attrs KIND TARGET}: shows, sets and removes the hub's attributes of a component or group. */
@Command(name = "attrs", mixinStandardHelpOptions = true,
        description = {"Shows the attributes the hub keeps for a component or group; with --set and --remove, "
                + "changes them first (removals after settings), then shows the result.",
                "Values are informative: the last writer wins. A value that is not UTF-8 text is shown as "
                        + "base64:<...>."})
final class AttrsCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Parameters(index = "0", paramLabel = "KIND", description = "component or group.")
    String kind;

    @Parameters(index = "1", paramLabel = "TARGET", description = "A component id (40 hex digits) or a group name.")
    String target;

    @Option(names = "--set", paramLabel = "NAME=VALUE",
            description = "Set an attribute (repeatable); the value is sent as UTF-8 text.")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--remove", paramLabel = "NAME", description = "Remove an attribute (repeatable).")
    List<String> remove = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!kind.equals("component") && !kind.equals("group")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "KIND must be 'component' or 'group', not '" + kind + "'");
        }
        String name = kind.equals("group") ? GroupsCommand.groupName(target) : target;
        String base = "/v1/attributes/" + kind + "/" + Hub.segment(name);
        for (String n : set.keySet()) {
            checkName(n, "--set");
        }
        for (String n : remove) {
            checkName(n, "--remove");
        }
        ApiClient api = options.client();
        // One request per attribute, as the API has them; a failure stops here and says which one.
        for (Map.Entry<String, String> e : set.entrySet()) {
            Hub.request(api, options, "PUT", base + "/" + Hub.segment(e.getKey()), e.getValue(),
                    "application/octet-stream");
        }
        for (String n : remove) {
            Hub.request(api, options, "DELETE", base + "/" + Hub.segment(n), null, null);
        }
        JsonNode body = Hub.request(api, options, "GET", base, null, null);
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, body);
        } else {
            print(body, out);
        }
        return 0;
    }

    private void checkName(String n, String option) {
        if (n.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    option + " needs an attribute name" + (option.equals("--set") ? ": --set NAME=VALUE" : ""));
        }
    }

    static void print(JsonNode body, PrintWriter out) {
        Table t = new Table("NAME", "VALUE");
        // Sorted by name, whatever order the node sends, so that repeated runs line up.
        java.util.TreeMap<String, JsonNode> sorted = new java.util.TreeMap<>();
        body.path("attributes").fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
        sorted.forEach((k, v) -> t.row(Hub.oneLine(k), Hub.cell(v)));
        t.print(out, "");
        int n = body.path("attributes").size();
        out.printf("%s %s: %d %s%n", body.path("kind").asText(), Hub.oneLine(body.path("target").asText()), n,
                n == 1 ? "attribute" : "attributes");
    }
}
