package io.smalti.bundle;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds the bundle archive (tar + gzip) of a directory, reproducibly: the same tree gives the same bytes and so
 * the same digest, whoever builds it and when. Stateless and thread-safe.
 */
public final class BundleArchive {
    /** The largest manifest read from an archive without extracting it. */
    static final int MAX_MANIFEST_BYTES = 1 << 20;

    private BundleArchive() {
    }

    /** The archive of {@code dir}, which must hold a valid {@code bundle.json}. */
    public static byte[] build(Path dir) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        build(dir, out);
        return out.toByteArray();
    }

    /** Writes the archive of {@code dir} to {@code file}, replacing it only once the archive is whole. */
    public static void build(Path dir, Path file) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                build(dir, out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new BundleException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to do: the next build overwrites it
            }
        }
    }

    /** Writes the archive of {@code dir} to {@code out} (not closed). */
    public static void build(Path dir, OutputStream out) {
        Path root = dir.toAbsolutePath().normalize();
        Path manifest = root.resolve(Manifest.FILE);
        if (!Files.isRegularFile(manifest, LinkOption.NOFOLLOW_LINKS)) {
            throw new BundleException(root + ": no " + Manifest.FILE + " (a regular file) at the top");
        }
        try {
            Manifest.parse(Files.readAllBytes(manifest));
            List<Path> paths;
            try (Stream<Path> walk = Files.walk(root)) { // does not follow symlinks: they are stored as links
                paths = new ArrayList<>(walk.filter(p -> !p.equals(root)).toList());
            }
            // Sorted by entry name, so that the order does not depend on the file system's; the manifest first, so
            // that its resources.disk bounds the extraction of everything after it (BundleExtractor).
            paths.sort(java.util.Comparator.comparing((Path p) -> !p.equals(manifest))
                    .thenComparing(p -> name(root, p)));
            // GZIPOutputStream writes mtime 0 and no file name in its header: nothing varies between builds.
            GZIPOutputStream gzip = new GZIPOutputStream(nonClosing(out), 1 << 16);
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(gzip, StandardCharsets.UTF_8.name())) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                for (Path p : paths) {
                    add(tar, root, p);
                }
                tar.finish();
            }
        } catch (IOException e) {
            throw new BundleException("cannot build a bundle of " + root + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new BundleException("cannot build a bundle of " + root + ": " + e.getCause().getMessage(), e);
        }
    }

    private static void add(TarArchiveOutputStream tar, Path root, Path p) throws IOException {
        String name = name(root, p);
        BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        TarArchiveEntry e;
        if (attrs.isSymbolicLink()) {
            String target = Files.readSymbolicLink(p).toString();
            EntryNames.checkSymlinkTarget(name, EntryNames.components(name), target);
            e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(target);
            e.setMode(0120777);
        } else if (attrs.isDirectory()) {
            e = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
            e.setMode(040755);
        } else if (attrs.isRegularFile()) {
            e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
            e.setSize(attrs.size());
            e.setMode(executable(p) ? 0100755 : 0100644);
        } else {
            throw new BundleException("entry '" + name + "': not a file, directory or symlink");
        }
        // Fixed owner and time: they would otherwise change the digest from one build machine to the next.
        e.setModTime(0);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("");
        e.setGroupName("");
        tar.putArchiveEntry(e);
        if (attrs.isRegularFile()) {
            try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                long copied = in.transferTo(tar);
                if (copied != attrs.size()) {
                    throw new BundleException("entry '" + name + "': changed while the bundle was built");
                }
            }
        }
        tar.closeArchiveEntry();
    }

    private static boolean executable(Path p) throws IOException {
        try {
            return Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS).contains(PosixFilePermission.OWNER_EXECUTE);
        } catch (UnsupportedOperationException e) {
            return Files.isExecutable(p);
        }
    }

    private static String name(Path root, Path p) {
        return root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    /** The SHA-256 digest of {@code archive}, 64 lowercase hex digits: the bundle's name. */
    public static String digest(byte[] archive) {
        return HexFormat.of().formatHex(sha256(archive));
    }

    /** The SHA-256 digest of the archive file {@code archive}, read in a stream: 64 lowercase hex digits. */
    public static String digest(Path archive) {
        return HexFormat.of().formatHex(sha256(archive));
    }

    /** The SHA-256 of a file's bytes, read in a stream. */
    public static byte[] sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
            return sha.digest();
        } catch (IOException e) {
            throw new BundleException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
    }

    /**
     * The manifest of an archive, read without extracting anything (for inspection; {@link BundleExtractor}
     * checks the whole archive).
     */
    public static Manifest readManifest(byte[] archive) {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new GZIPInputStream(new java.io.ByteArrayInputStream(archive)), StandardCharsets.UTF_8.name())) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                List<String> parts = EntryNames.components(e.getName());
                if (parts.equals(List.of(Manifest.FILE))) {
                    if (!e.isFile() || e.isLink() || e.isSymbolicLink()) {
                        throw new BundleException("entry '" + e.getName() + "': must be a regular file");
                    }
                    byte[] json = tar.readNBytes(MAX_MANIFEST_BYTES + 1);
                    if (json.length > MAX_MANIFEST_BYTES) {
                        throw new BundleException("entry '" + e.getName() + "': larger than 1 MiB");
                    }
                    return Manifest.parse(json);
                }
            }
        } catch (IOException e) {
            throw new BundleException("archive: not a readable tar.gz: " + e.getMessage(), e);
        }
        throw new BundleException("archive: no " + Manifest.FILE);
    }
}
