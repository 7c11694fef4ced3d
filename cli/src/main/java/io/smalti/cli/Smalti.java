package io.smalti.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code smalti} command. Each subcommand is a short-lived client of the node agents' REST API. */
@Command(name = "smalti", mixinStandardHelpOptions = true, versionProvider = Smalti.Version.class,
        description = "Smalti: a peer-to-peer platform-as-a-service runtime.",
        subcommands = {ClusterCommand.class, RingCommand.class, NodesCommand.class, VnodesCommand.class,
                CallCommand.class, CastCommand.class, GroupsCommand.class, AttrsCommand.class, DebugCommand.class,
                DeployCommand.class, PsCommand.class, DestroyCommand.class, ScaleCommand.class, TypesCommand.class,
                BundlesCommand.class, NodeCommand.class,
                KeysCommand.class, BundleCommand.class, OperatorCommand.class, CredCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Run a node agent in the foreground with: smalti node start --help", "",
                "Commands that talk to a node use --node URL, else $SMALTI_NODE, else the first running node "
                        + "of the local cluster (smalti cluster up), else https://127.0.0.1:7380.",
                "They present an operator certificate: --cert/--key/--ca, else the configuration directory's "
                        + "(~/.config/smalti), else the local cluster's."})
public final class Smalti {

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line; returns the exit code (0 ok, 1 failed, 2 bad usage). */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Smalti());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof Failure f) {
                cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + f.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    /** Prints a JSON document, pretty-printed, for {@code --json}. */
    static void printJson(PrintWriter out, Object document) {
        try {
            out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(document));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Failure("cannot print JSON: " + e.getMessage());
        }
    }

    /** A failure to report to the user as one clear message (exit code 1), without a stack trace. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    /** Options shared by the commands that read from a node. */
    static final class NodeOptions {
        @Option(names = "--node", paramLabel = "URL", description = "REST API base URL of the node to ask.")
        String node;

        @Option(names = "--json", description = "Print JSON (stable field names, see docs/cli.md).")
        boolean json;

        @Option(names = "--state-dir", paramLabel = "DIR", description = "Local cluster state directory.")
        Path stateDir;

        @Option(names = "--cert", paramLabel = "FILE", description = "Operator certificate (PEM); default: see docs/cli.md.")
        Path cert;

        @Option(names = "--key", paramLabel = "FILE", description = "Its private key (PEM, PKCS#8).")
        Path key;

        @Option(names = "--ca", paramLabel = "FILE", description = "The cluster CA certificate (default: ca.pem beside --cert).")
        Path ca;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s", converter = DurationConverter.class,
                description = "How long to wait for each node to answer: seconds, or with a unit (500ms, 5s, 2m); "
                        + "default: ${DEFAULT-VALUE}.")
        Duration timeout;

        /** The node URL to use, by the documented order of preference. */
        String resolveNode() {
            if (node != null) {
                return node;
            }
            String env = System.getenv("SMALTI_NODE");
            if (env != null && !env.isBlank()) {
                return env;
            }
            Optional<String> local = LocalCluster.at(stateDir).firstRunningApiUrl();
            return local.orElse("https://127.0.0.1:7380");
        }

        ApiClient client() {
            return client(timeout);
        }

        /** A client with these options' certificate and another timeout. */
        ApiClient client(Duration timeout) {
            return new ApiClient(timeout, ClientTls.resolve(cert, key, ca, stateDir));
        }
    }

    /**
     * Reads {@code --timeout}: a plain number is seconds (the option's original meaning, kept for scripts),
     * else a number with a unit {@code ms}, {@code s} or {@code m}.
     */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.trim().toLowerCase(java.util.Locale.ROOT);
            double scale = 1000;
            if (v.endsWith("ms")) {
                scale = 1;
                v = v.substring(0, v.length() - 2);
            } else if (v.endsWith("s")) {
                v = v.substring(0, v.length() - 1);
            } else if (v.endsWith("m")) {
                scale = 60_000;
                v = v.substring(0, v.length() - 1);
            }
            double millis;
            try {
                millis = Double.parseDouble(v) * scale;
            } catch (NumberFormatException e) {
                millis = Double.NaN;
            }
            // Below 1 ms the HTTP client would treat the timeout as "none" or fail oddly; say so instead.
            if (!(millis >= 1) || millis > Integer.MAX_VALUE) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration: use seconds (5), "
                        + "or a number with ms, s or m (500ms, 5s, 2m), at least 1ms");
            }
            return Duration.ofMillis((long) millis);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Smalti.class.getPackage().getImplementationVersion();
            return new String[] {"smalti " + (v == null ? System.getProperty("smalti.version", "dev") : v)};
        }
    }
}
