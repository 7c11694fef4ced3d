package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code smalti types}: the registered component types. */
@Command(name = "types", mixinStandardHelpOptions = true,
        description = {"Lists the registered component types: id, name, version, bundle, desired instances, and "
                + "available/all instances.",
                "ID shows the last 12 hex digits of the type id and BUNDLE the first 12 of the bundle digest; --json "
                        + "shows them whole."})
final class TypesCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JsonNode body = Hub.get(options, "/v1/types");
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, body);
        } else {
            print(body, out);
        }
        return 0;
    }

    static void print(JsonNode body, PrintWriter out) {
        Table t = new Table("ID", "NAME", "VERSION", "BUNDLE", "DESIRED", "AVAILABLE/INSTANCES");
        for (JsonNode type : body.path("types")) {
            t.row(Components.shortId(type.path("id").asText()), cell(type.path("name")), cell(type.path("version")),
                    Components.shortDigest(Components.text(type.path("bundle"))), cell(type.path("desired")),
                    cell(type.path("available")) + "/" + cell(type.path("instances")));
        }
        t.print(out, "");
        out.println(Components.plural(body.path("types").size(), "type"));
    }

    private static String cell(JsonNode n) {
        String s = Components.text(n);
        return s == null ? "-" : Hub.oneLine(s);
    }
}
