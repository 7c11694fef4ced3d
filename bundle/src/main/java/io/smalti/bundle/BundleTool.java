package io.smalti.bundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Builds and signs bundles from the command line ({@code BundleTool build DIR OUT_DIR KEYFILE}, as the examples'
 * build does) and from code ({@link #build}). Stateless and thread-safe.
 */
public final class BundleTool {
    private BundleTool() {
    }

    /** What {@link #build} made. */
    public record Built(Manifest manifest, String digest, long size, Path archive, Path signature) {
    }

    public static void main(String[] args) {
        if (args.length != 4 || !args[0].equals("build")) {
            System.err.println("usage: BundleTool build DIR OUT_DIR KEYFILE");
            System.exit(2);
        }
        try {
            Built b = build(Path.of(args[1]), Path.of(args[2]), DeveloperKey.loadOrCreate(Path.of(args[3])));
            System.out.println(b.digest() + "  " + b.archive());
        } catch (BundleException e) {
            System.err.println("bundle: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Builds the archive of {@code dir} into {@code outDir/<name>-<version>.tar.gz} and its signature into
     * {@code outDir/<name>-<version>.sig}.
     */
    public static Built build(Path dir, Path outDir, DeveloperKey key) {
        Manifest manifest;
        try {
            manifest = Manifest.parse(Files.readAllBytes(dir.resolve(Manifest.FILE)));
        } catch (IOException e) {
            throw new BundleException(dir.toAbsolutePath().normalize() + ": no " + Manifest.FILE
                    + " (a regular file) at the top", e);
        }
        String base = manifest.name() + "-" + fileSafe(manifest.version());
        Path archiveFile = outDir.resolve(base + ".tar.gz");
        Path sigFile = outDir.resolve(base + ".sig");
        try {
            Files.createDirectories(outDir);
            // Written to the file as it is built: a bundle may be 256 MiB, more than a small tool's heap.
            BundleArchive.build(dir, archiveFile);
            BundleSignature signature = BundleSignature.sign(archiveFile, key);
            write(sigFile, signature.toJson());
            return new Built(manifest, signature.digest(), Files.size(archiveFile), archiveFile, sigFile);
        } catch (IOException e) {
            throw new BundleException("cannot write to " + outDir + ": " + e.getMessage(), e);
        }
    }

    /** The signature file of an archive file: {@code x.tar.gz} → {@code x.sig}. */
    public static Path signatureFile(Path archiveFile) {
        String name = archiveFile.getFileName().toString();
        String base = name.endsWith(".tar.gz") ? name.substring(0, name.length() - ".tar.gz".length()) : name;
        return archiveFile.resolveSibling(base + ".sig");
    }

    /** A version may hold '/' or other characters a file name cannot: those become '_'. */
    private static String fileSafe(String version) {
        return version.replaceAll("[^A-Za-z0-9._+-]", "_");
    }

    private static void write(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
