package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti debug}: operators' smoke tests of the platform's internals. */
@Command(name = "debug", mixinStandardHelpOptions = true,
        description = "Smoke tests of the platform's internals.",
        subcommands = {DebugCommand.Kv.class})
final class DebugCommand {

    @Command(name = "kv", mixinStandardHelpOptions = true,
            description = "The replicated key-value test service: every value is stored on N nodes of the ring; "
                    + "writes wait for W of them, reads merge R of them.",
            subcommands = {Kv.Get.class, Kv.Put.class, Kv.Delete.class})
    static final class Kv {

        @Command(name = "get", mixinStandardHelpOptions = true, description = "Reads a key (R replicas, merged).")
        static final class Get implements Callable<Integer> {
            @Mixin
            Smalti.NodeOptions options = new Smalti.NodeOptions();

            @Parameters(paramLabel = "KEY")
            String key;

            @Option(names = "--r", paramLabel = "N", description = "Replicas to read (default: the node's read-quorum).")
            Integer r;

            @Spec
            CommandSpec spec;

            @Override
            public Integer call() {
                JsonNode v = request(options, "GET", path(key, "r", r), null);
                PrintWriter out = spec.commandLine().getOut();
                if (options.json) {
                    Smalti.printJson(out, v);
                } else {
                    out.println(v.has("valueBase64") ? "(base64) " + v.path("valueBase64").asText() : v.path("value").asText());
                    spec.commandLine().getErr().printf("written %s by %s; kv/%d, %d replicas answered%n",
                            v.path("time").asText(), v.path("writer").asText(), v.path("vnode").asInt(), v.path("answered").asInt());
                }
                return 0;
            }
        }

        @Command(name = "put", mixinStandardHelpOptions = true, description = "Writes a key (acknowledged by W replicas).")
        static final class Put implements Callable<Integer> {
            @Mixin
            Smalti.NodeOptions options = new Smalti.NodeOptions();

            @Parameters(index = "0", paramLabel = "KEY")
            String key;

            @Parameters(index = "1", paramLabel = "VALUE")
            String value;

            @Option(names = "--w", paramLabel = "N", description = "Replicas that must store it (default: the node's write-quorum).")
            Integer w;

            @Spec
            CommandSpec spec;

            @Override
            public Integer call() {
                printWritten(spec, options, request(options, "PUT", path(key, "w", w), value));
                return 0;
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a key (a tombstone, replicated like a write).")
        static final class Delete implements Callable<Integer> {
            @Mixin
            Smalti.NodeOptions options = new Smalti.NodeOptions();

            @Parameters(paramLabel = "KEY")
            String key;

            @Option(names = "--w", paramLabel = "N", description = "Replicas that must store it (default: the node's write-quorum).")
            Integer w;

            @Spec
            CommandSpec spec;

            @Override
            public Integer call() {
                printWritten(spec, options, request(options, "DELETE", path(key, "w", w), null));
                return 0;
            }
        }

        private static void printWritten(CommandSpec spec, Smalti.NodeOptions options, JsonNode w) {
            if (options.json) {
                Smalti.printJson(spec.commandLine().getOut(), w);
            } else {
                spec.commandLine().getOut().printf("stored at %s on %d replicas of kv/%d (coordinator %s)%n",
                        w.path("time").asText(), w.path("acks").asInt(), w.path("vnode").asInt(), w.path("coordinator").asText());
            }
        }

        private static String path(String key, String quorumName, Integer quorum) {
            String p = "/v1/debug/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
            return quorum == null ? p : p + "?" + quorumName + "=" + quorum;
        }

        private static JsonNode request(Smalti.NodeOptions options, String method, String path, String body) {
            try {
                return options.client().send(options.resolveNode(), method, path, body);
            } catch (ApiClient.ApiException e) {
                throw new Smalti.Failure(e.getMessage());
            }
        }
    }
}
