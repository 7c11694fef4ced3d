package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti destroy}: terminates instances, or unregisters a type with all its instances. */
@Command(name = "destroy", mixinStandardHelpOptions = true,
        description = {"Terminates the given instances: each is asked to stop, and destroyed after the grace period "
                + "if it has not; with --force it is destroyed without waiting.",
                "With --type, unregisters the type instead: all its instances are terminated and it is not restarted.",
                "INSTANCE is a full id (40 hex digits: smalti ps --no-trunc or --json shows them); prefixes are "
                        + "not accepted."},
        footer = {"", "Exit status 1 when the node refused any of them (the others are still terminated)."})
final class DestroyCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Parameters(arity = "0..*", paramLabel = "INSTANCE", description = "Instance ids (40 hex digits).")
    List<String> instances = new ArrayList<>();

    @Option(names = "--force", description = "Destroy without waiting for the instance to stop.")
    boolean force;

    @Option(names = "--type", paramLabel = "ID|NAME", description = "Unregister this type (id or name) and terminate "
            + "all its instances.")
    String type;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (type != null) {
            if (!instances.isEmpty() || force) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--type takes no INSTANCE and no --force: it unregisters the type and terminates all its instances");
            }
            return destroyType();
        }
        if (instances.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give the INSTANCE ids to terminate, or --type ID|NAME to unregister a type");
        }
        for (String id : instances) {
            if (!Components.isFullId(id)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "'" + Hub.oneLine(id)
                        + "' is not an instance id: give the full id, 40 hex digits (smalti ps --no-trunc shows them; "
                        + "short ids and prefixes are not accepted)");
            }
        }
        ApiClient api = options.client();
        String node = options.resolveNode();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<JsonNode> done = new ArrayList<>();
        int failed = 0;
        for (String id : instances) {
            String path = "/v1/instances/" + id.toLowerCase(Locale.ROOT) + (force ? "?force=true" : "");
            try {
                JsonNode body = api.send(node, "DELETE", path, null);
                done.add(body);
                if (!options.json) {
                    out.printf("%s: %s%n", body.path("id").asText(id), Hub.oneLine(body.path("state").asText("?")));
                }
            } catch (ApiClient.ApiException e) {
                err.println(spec.qualifiedName() + ": " + e.getMessage());
                failed++;
            }
        }
        if (options.json) {
            ObjectNode doc = ApiClient.JSON.createObjectNode();
            ArrayNode list = doc.putArray("instances");
            done.forEach(list::add);
            Smalti.printJson(out, doc);
        }
        return failed == 0 ? 0 : 1;
    }

    private int destroyType() {
        ApiClient api = options.client();
        String id = Components.resolveType(api, options, type);
        JsonNode body = Hub.request(api, options, "DELETE", "/v1/types/" + id, null, null);
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, body);
        } else {
            out.printf("unregistered type %s; its instances are being terminated%n", body.path("id").asText(id));
        }
        return 0;
    }
}
