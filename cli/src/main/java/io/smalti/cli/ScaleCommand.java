package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti scale TYPE N}: sets how many instances of a type should run. */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = {"Sets the number of instances of a type the cluster keeps running; it starts or terminates "
                + "instances to reach it (smalti ps shows them).",
                "TYPE is the type's id (40 hex digits) or its name; a name registered in several versions is "
                        + "refused, with the ids to choose from."})
final class ScaleCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Parameters(index = "0", paramLabel = "TYPE", description = "Type id or name.")
    String type;

    @Parameters(index = "1", paramLabel = "N", description = "Desired number of instances, 0 to " + Components.MAX_COUNT + ".")
    int count;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Components.checkCount(spec, "N", count, 0);
        ApiClient api = options.client();
        String id = Components.resolveType(api, options, type);
        String body = ApiClient.JSON.createObjectNode().put("count", count).toString();
        JsonNode t = Hub.request(api, options, "PUT", "/v1/types/" + id + "/scale", body, "application/json");
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, t);
        } else {
            out.printf("type %s (%s): desired %s%n", Components.nameVersion(t), t.path("id").asText(id),
                    Components.plural(t.path("desired").asLong(count), "instance"));
        }
        return 0;
    }
}
