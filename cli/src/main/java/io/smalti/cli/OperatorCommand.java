package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.Pem;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti operator}: certificates of the people (and scripts) that use the REST API. */
@Command(name = "operator", mixinStandardHelpOptions = true,
        description = "Operator and viewer certificates for the REST API and the console.",
        subcommands = {OperatorCommand.Cert.class})
final class OperatorCommand {

    @Command(name = "cert", mixinStandardHelpOptions = true,
            description = {"Makes a key pair here and has a node issue a certificate for it (needs an operator's certificate).",
                    "An operator may change anything; a viewer may only read. The private key never leaves this machine."})
    static final class Cert implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "NAME", description = "Who the certificate is for (letters, digits, . _ : @ -).")
        String name;

        @Option(names = "--role", defaultValue = "operator", paramLabel = "operator|viewer",
                description = "What the holder may do (default: ${DEFAULT-VALUE}).")
        String role;

        @Option(names = "--out", paramLabel = "DIR",
                description = "Where to write operator.pem, operator-key.pem and ca.pem (default: ./smalti-NAME).")
        Path out;

        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!role.equals("operator") && !role.equals("viewer")) {
                throw new Smalti.Failure("--role must be operator or viewer, not '" + role + "'");
            }
            Path dir = out != null ? out : Path.of("smalti-" + name);
            if (Files.exists(dir.resolve(ClientTls.CERT_FILE))) {
                throw new Smalti.Failure(dir.resolve(ClientTls.CERT_FILE) + " exists; choose another --out");
            }
            KeyPair pair = KeyAlgorithm.EC.generate();
            ObjectNode body = ApiClient.JSON.createObjectNode().put("name", name).put("role", role)
                    .put("publicKey", Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
            JsonNode answer;
            try {
                answer = options.client().send(options.resolveNode(), "POST", "/v1/operators", body.toString(),
                        "application/json");
            } catch (ApiClient.ApiException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            LocalCluster.writeIdentity(dir, answer.path("certificate").asText(), Pem.privateKey(pair.getPrivate()),
                    answer.path("ca").asText());
            PrintWriter o = spec.commandLine().getOut();
            if (options.json) {
                ObjectNode r = ApiClient.JSON.createObjectNode().put("name", name).put("role", role)
                        .put("dir", dir.toAbsolutePath().toString()).put("notAfter", answer.path("notAfter").asText());
                Smalti.printJson(o, r);
            } else {
                o.printf("%s certificate for %s, valid until %s, written to %s%n", role, name,
                        answer.path("notAfter").asText(), dir.toAbsolutePath());
                o.printf("Use it with --cert %s --key %s --ca %s, or copy the three files to %s%n",
                        dir.resolve(ClientTls.CERT_FILE), dir.resolve(ClientTls.KEY_FILE), dir.resolve(ClientTls.CA_FILE),
                        ClientTls.configDir());
            }
            return 0;
        }
    }
}
