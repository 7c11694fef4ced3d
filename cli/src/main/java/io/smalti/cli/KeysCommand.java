package io.smalti.cli;

import io.smalti.bundle.BundleException;
import io.smalti.bundle.DeveloperKey;
import io.smalti.bundle.TrustedKey;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code smalti keys create|show}: the developer's Ed25519 key that signs bundles. */
@Command(name = "keys", mixinStandardHelpOptions = true,
        description = "Creates or shows the developer key that signs bundles (smalti bundle build). Nodes run the "
                + "bundles of the keys they trust: give them the .pub file.",
        subcommands = {KeysCommand.Create.class, KeysCommand.Show.class})
final class KeysCommand {

    /** The default key file: {@code $XDG_CONFIG_HOME/smalti/developer.key}, else {@code ~/.config/smalti/...}. */
    static Path defaultKeyFile(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        Path config = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".config");
        return config.resolve("smalti").resolve("developer.key");
    }

    /** The key file of {@code --file}, else the default one. */
    static Path keyFile(Path option) {
        return option != null ? option : defaultKeyFile(System.getenv());
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Creates a new developer key (private key mode 0600, public key next to it as .pub); "
                    + "refuses to replace an existing one.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--file", paramLabel = "FILE",
                description = "The private key file (default: $XDG_CONFIG_HOME/smalti/developer.key, or "
                        + "~/.config/smalti/developer.key).")
        Path file;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path f = keyFile(file);
            if (Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new Smalti.Failure(f + " exists: not replacing a key (smalti keys show prints it)");
            }
            DeveloperKey key = DeveloperKey.generate();
            try {
                key.save(f);
            } catch (BundleException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("key id:     " + key.publicKey().id());
            out.println("private:    " + f);
            out.println("public:     " + DeveloperKey.publicFile(f));
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Shows the developer key's id, its public key line and files.")
    static final class Show implements Callable<Integer> {
        @Option(names = "--file", paramLabel = "FILE", description = "The private key file (default: as for create).")
        Path file;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path f = keyFile(file);
            if (!Files.exists(f)) {
                throw new Smalti.Failure("no key at " + f + ": create one with smalti keys create");
            }
            TrustedKey pub;
            try {
                pub = DeveloperKey.load(f).publicKey();
            } catch (BundleException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println("key id:     " + pub.id());
            out.println("private:    " + f);
            out.println("public:     " + DeveloperKey.publicFile(f));
            out.println(pub.toText());
            return 0;
        }
    }
}
