package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code smalti bundles}: the bundles stored in the cluster. */
@Command(name = "bundles", mixinStandardHelpOptions = true,
        description = {"Lists the bundles stored in the cluster: digest, name, version, size, signer, when stored.",
                "DIGEST shows the first 12 digits of the digest; --json shows it whole."})
final class BundlesCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        JsonNode body = Hub.get(options, "/v1/bundles");
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, body);
        } else {
            print(body, out);
        }
        return 0;
    }

    static void print(JsonNode body, PrintWriter out) {
        Table t = new Table("DIGEST", "NAME", "VERSION", "SIZE", "SIGNED BY", "STORED");
        for (JsonNode b : body.path("bundles")) {
            JsonNode size = b.path("size");
            t.row(Components.shortDigest(Components.text(b.path("digest"))), cell(b.path("name")),
                    cell(b.path("version")), size.isNumber() ? Components.bytes(size.asLong()) : null,
                    cell(b.path("signedBy")), cell(b.path("storedAt")));
        }
        t.print(out, "");
        out.println(Components.plural(body.path("bundles").size(), "bundle"));
    }

    private static String cell(JsonNode n) {
        String s = Components.text(n);
        return s == null ? null : Hub.oneLine(s);
    }
}
