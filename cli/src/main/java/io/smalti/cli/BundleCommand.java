package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.bundle.BundleArchive;
import io.smalti.bundle.BundleException;
import io.smalti.bundle.BundleSignature;
import io.smalti.bundle.BundleTool;
import io.smalti.bundle.DeveloperKey;
import io.smalti.bundle.Manifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti bundle build|inspect|push}: makes, reads and uploads signed bundles. */
@Command(name = "bundle", mixinStandardHelpOptions = true,
        description = "Builds a signed bundle from a directory with a bundle.json, shows one, or pushes one to a node.",
        subcommands = {BundleCommand.Build.class, BundleCommand.Inspect.class, BundleCommand.Push.class})
final class BundleCommand {

    /** The signature file of an archive: {@code NAME-VERSION.tar.gz} → {@code NAME-VERSION.sig}. */
    static Path signatureOf(Path archive) {
        return BundleTool.signatureFile(archive);
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Smalti.Failure("cannot read " + file + ": " + e.getMessage());
        }
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = "Builds DIR (which holds bundle.json) into OUT/NAME-VERSION.tar.gz, signed in "
                    + "OUT/NAME-VERSION.sig; the same directory always gives the same digest.")
    static final class Build implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "The bundle's directory, with bundle.json at its top.")
        Path dir;

        @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
                description = "Where to write the archive and its signature (default: the current directory).")
        Path out;

        @Option(names = "--key", paramLabel = "FILE", description = "The developer key (default: as for smalti keys).")
        Path key;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path keyFile = KeysCommand.keyFile(key);
            if (!Files.exists(keyFile)) {
                throw new Smalti.Failure("no developer key at " + keyFile + ": create one with smalti keys create");
            }
            BundleTool.Built b;
            try {
                b = BundleTool.build(dir, out, DeveloperKey.load(keyFile));
            } catch (BundleException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            PrintWriter w = spec.commandLine().getOut();
            w.println("digest:     " + b.digest());
            w.println("name:       " + b.manifest().name());
            w.println("version:    " + Hub.oneLine(b.manifest().version()));
            w.println("size:       " + b.size());
            w.println("archive:    " + b.archive());
            w.println("signature:  " + b.signature());
            return 0;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Shows a bundle archive's digest, size, signer (from the .sig next to it) and manifest.")
    static final class Inspect implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", description = "The bundle archive (.tar.gz).")
        Path file;

        @Option(names = "--json", description = "Print JSON: {\"digest\", \"size\", \"key\", \"manifest\"}.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            byte[] archive = read(file);
            Manifest manifest;
            String key = null;
            try {
                manifest = BundleArchive.readManifest(archive);
                Path sig = signatureOf(file);
                if (Files.isRegularFile(sig)) {
                    key = BundleSignature.parse(read(sig)).key();
                }
            } catch (BundleException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            String digest = BundleArchive.digest(archive);
            PrintWriter w = spec.commandLine().getOut();
            JsonNode manifestJson;
            try {
                manifestJson = ApiClient.JSON.readTree(manifest.toJson());
            } catch (IOException e) {
                throw new Smalti.Failure("cannot show the manifest: " + e.getMessage());
            }
            if (json) {
                ObjectNode o = ApiClient.JSON.createObjectNode().put("digest", digest).put("size", archive.length);
                o.put("key", key);
                o.set("manifest", manifestJson);
                Smalti.printJson(w, o);
                return 0;
            }
            w.println("digest:     " + digest);
            w.println("size:       " + archive.length);
            w.println("signed by:  " + (key == null ? "(no " + signatureOf(file).getFileName() + ")" : key));
            w.println("manifest:");
            Smalti.printJson(w, manifestJson);
            return 0;
        }
    }

    @Command(name = "push", mixinStandardHelpOptions = true,
            description = "Uploads a bundle archive and its signature (the .sig next to it) to a node, which "
                    + "stores it if a key it trusts signed it.")
    static final class Push implements Callable<Integer> {
        @Mixin
        Smalti.NodeOptions options = new Smalti.NodeOptions();

        @Parameters(paramLabel = "FILE", description = "The bundle archive, NAME-VERSION.tar.gz, with NAME-VERSION.sig.")
        Path file;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Path sig = signatureOf(file);
            if (!Files.isRegularFile(sig)) {
                throw new Smalti.Failure("no signature " + sig + " next to " + file
                        + " (smalti bundle build writes both)");
            }
            if (!Files.isRegularFile(file)) {
                throw new Smalti.Failure("no bundle file " + file);
            }
            String signature = Base64.getEncoder().encodeToString(read(sig));
            JsonNode body;
            try {
                body = options.client().postFile(options.resolveNode(), "/v1/bundles", file,
                        Map.of("Smalti-Signature", signature));
            } catch (ApiClient.ApiException e) {
                throw new Smalti.Failure(e.getMessage());
            }
            PrintWriter w = spec.commandLine().getOut();
            if (options.json) {
                Smalti.printJson(w, body);
                return 0;
            }
            Table t = new Table("DIGEST", "NAME", "VERSION", "SIZE");
            t.row(Hub.cell(body.path("digest")), Hub.cell(body.path("name")), Hub.cell(body.path("version")),
                    Hub.cell(body.path("size")));
            t.print(w, "");
            return 0;
        }
    }
}
