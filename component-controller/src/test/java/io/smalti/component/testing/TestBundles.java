package io.smalti.component.testing;

import io.smalti.bundle.BundleArchive;
import io.smalti.bundle.BundleSignature;
import io.smalti.bundle.DeveloperKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Real bundles for tests: built from a directory with {@link BundleArchive}, or crafted by hand, and signed. */
public final class TestBundles {
    private TestBundles() {}

    /** An archive and its detached signature file. */
    public record Signed(byte[] archive, byte[] signature, String digest) {}

    /** A minimal manifest of the given name (memory as in the manifest, e.g. "64M"). */
    public static String manifest(String name, String version, String memory) {
        return """
                {"name": "%s", "version": "%s", "run": {"command": ["true"]}, "resources": {"memory": "%s"}}
                """.formatted(name, version, memory);
    }

    /** Builds the bundle of a new directory under {@code parent} holding {@code bundle.json} and the given files. */
    public static byte[] build(Path parent, String manifest, Map<String, byte[]> files) throws IOException {
        Path dir = Files.createTempDirectory(parent, "bundle-src-");
        Files.writeString(dir.resolve("bundle.json"), manifest);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
        }
        return BundleArchive.build(dir);
    }

    public static Signed sign(byte[] archive, DeveloperKey key) {
        BundleSignature s = BundleSignature.sign(archive, key);
        return new Signed(archive, s.toJson(), s.digest());
    }

    /** A valid signed bundle named {@code name} with one file {@code app/hello.txt}. */
    public static Signed simple(Path parent, DeveloperKey key, String name, String memory) throws IOException {
        return sign(build(parent, manifest(name, "1.0", memory),
                Map.of("app/hello.txt", ("hello from " + name).getBytes(StandardCharsets.UTF_8))), key);
    }

    /** Writes {@code key}'s public half as {@code <file>.pub} in {@code dir}, where a repository trusts it. */
    public static void trust(Path dir, String file, DeveloperKey key) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(file + ".pub"), key.publicKey().toText() + "\n");
    }

    /** A tar.gz crafted by hand: a valid manifest, then the given entries (names as given, '..' and all). */
    public static byte[] crafted(String manifest, Map<String, String> entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(bytes),
                StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            put(tar, "bundle.json", manifest.getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, String> e : entries.entrySet()) {
                put(tar, e.getKey(), e.getValue().getBytes(StandardCharsets.UTF_8));
            }
            tar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        // preserveAbsolutePath = true: the name goes into the archive exactly as given.
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
        e.setSize(content.length);
        e.setMode(0100644);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
