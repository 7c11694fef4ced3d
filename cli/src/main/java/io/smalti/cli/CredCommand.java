package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti cred}: the vault of the node asked (credentials go in, operations come out; secrets never do). */
@Command(name = "cred", mixinStandardHelpOptions = true,
        description = "Credentials in the node's vault: components ask for operations on them (HMAC, signatures, AWS SigV4, "
                + "Authorization headers) and never see the secret.",
        subcommands = {CredCommand.Put.class, CredCommand.Ls.class, CredCommand.Rm.class, CredCommand.Policy.class,
                CredCommand.Audit.class})
final class CredCommand {

    static JsonNode call(Smalti.NodeOptions options, String method, String path, String body) {
        try {
            return options.client().send(options.resolveNode(), method, path, body, body == null ? null : "application/json");
        } catch (ApiClient.ApiException e) {
            throw new Smalti.Failure(e.getMessage());
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = {"Stores a credential. The secret comes from --secret-file or standard input (never an argument), "
                    + "or the vault generates it (--generate: HMAC keys and key pairs)."})
    static final class Put implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--kind", required = true, paramLabel = "KIND",
                description = "hmac-key, aws-access-key, ed25519-key, ecdsa-p256-key, rsa-key, basic or bearer.")
        String kind;

        @Option(names = "--shareable", paramLabel = "TEXT",
                description = "The part that may be shown: an AWS access key id, a user name.")
        String shareable;

        @Option(names = "--secret-file", paramLabel = "FILE", description = "Read the secret from FILE.")
        Path secretFile;

        @Option(names = "--generate", description = "Let the vault make the key.")
        boolean generate;

        @Option(names = "--replace", description = "Replace a credential of that name.")
        boolean replace;

        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ObjectNode body = ApiClient.JSON.createObjectNode().put("kind", kind).put("replace", replace);
            if (shareable != null) {
                body.put("shareable", shareable);
            }
            if (generate) {
                body.put("generate", true);
            } else {
                byte[] secret = secretFile != null ? Files.readAllBytes(secretFile) : System.in.readAllBytes();
                int end = secret.length;
                while (end > 0 && (secret[end - 1] == '\n' || secret[end - 1] == '\r')) {
                    end--;
                }
                if (end == 0) {
                    throw new Smalti.Failure("no secret: give --secret-file, pipe it to standard input, or --generate");
                }
                body.put("confidentialBase64", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(secret, end)));
            }
            JsonNode stored = CredCommand.call(options, "PUT", "/v1/credentials/" + enc(name), body.toString());
            PrintWriter out = spec.commandLine().getOut();
            if (options.json) {
                Smalti.printJson(out, stored);
            } else {
                out.printf("stored %s (%s)%s%n", stored.path("name").asText(), stored.path("kind").asText(),
                        stored.hasNonNull("publicKey") ? ", public key " + stored.path("publicKey").asText() : "");
            }
            return 0;
        }
    }

    @Command(name = "ls", mixinStandardHelpOptions = true, description = "Lists credentials: names, kinds, shareable parts.")
    static final class Ls implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "PREFIX")
        String prefix;

        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode list = CredCommand.call(options, "GET", "/v1/credentials" + (prefix == null ? "" : "?prefix=" + enc(prefix)), null);
            PrintWriter out = spec.commandLine().getOut();
            if (options.json) {
                Smalti.printJson(out, list);
                return 0;
            }
            Table t = new Table("NAME", "KIND", "SHAREABLE", "CREATED");
            list.path("credentials").forEach(c -> t.row(c.path("name").asText(), c.path("kind").asText(),
                    c.path("shareable").asText(null), c.path("created").asText(null)));
            t.print(out, "");
            return 0;
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Deletes a credential.")
    static final class Rm implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode r = CredCommand.call(options, "DELETE", "/v1/credentials/" + enc(name), null);
            spec.commandLine().getOut().println(r.path("existed").asBoolean() ? "deleted " + name : name + " did not exist");
            return 0;
        }
    }

    @Command(name = "policy", mixinStandardHelpOptions = true,
            description = {"Shows the vault's policy, or replaces it with --set FILE: {\"rules\": [{\"componentType\": \"echo\" "
                    + "| \"identity\": \"harness:<id>\", \"operations\": [\"HMAC\", \"SIGN\", \"PUBLIC_KEY\", \"AWS_SIGV4\", "
                    + "\"AUTHORIZATION_HEADER\"], \"credential\": \"name\" | \"prefix*\"}]}. Without a rule, nothing is allowed."})
    static final class Policy implements Callable<Integer> {
        @Option(names = "--set", paramLabel = "FILE")
        Path set;

        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            JsonNode r = set == null ? CredCommand.call(options, "GET", "/v1/credentials-policy", null)
                    : CredCommand.call(options, "PUT", "/v1/credentials-policy", Files.readString(set, StandardCharsets.UTF_8));
            Smalti.printJson(spec.commandLine().getOut(), r);
            return 0;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, description = "The latest uses of the vault: who, what, which, outcome.")
    static final class Audit implements Callable<Integer> {
        @Option(names = "--latest", defaultValue = "50", paramLabel = "N", description = "How many (1..1000; default ${DEFAULT-VALUE}).")
        int latest;

        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            JsonNode r = CredCommand.call(options, "GET", "/v1/credentials-audit?latest=" + latest, null);
            PrintWriter out = spec.commandLine().getOut();
            if (options.json) {
                Smalti.printJson(out, r);
                return 0;
            }
            Table t = new Table("TIME", "CALLER", "OPERATION", "CREDENTIAL", "OUTCOME", "REASON");
            r.path("events").forEach(e -> t.row(e.path("time").asText(), e.path("caller").asText(),
                    e.path("operation").asText(), e.path("credential").asText(null), e.path("outcome").asText(),
                    e.path("reason").asText(null)));
            t.print(out, "");
            return 0;
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
