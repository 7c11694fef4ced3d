package io.smalti.bundle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Extracts a bundle archive safely: all of it or nothing, never a byte outside the target directory, within
 * {@link Limits} and the manifest's own {@code resources.disk}. Every limit is checked as the bytes are
 * decompressed, before they are written: a refused archive has written at most its limit to disk, whatever its
 * headers claim (a 1.2 MB archive of zeros once wrote 1 GiB before it was refused). Stateless and thread-safe;
 * two extractions must not share a target directory.
 */
public final class BundleExtractor {
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwxr-xr-x");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> EXEC = DIR;
    /** Tar headers, PAX records and padding allowed per entry on top of the file bytes (see {@link #extract}). */
    private static final long OVERHEAD_PER_ENTRY = 64 * 1024;

    private BundleExtractor() {
    }

    /** Extracts {@code archive} to {@code targetDir} (which must not exist); returns its manifest. */
    public static Manifest extract(byte[] archive, Path targetDir, Limits limits) {
        return extract(new ByteArrayInputStream(archive), targetDir, limits);
    }

    /** Extracts the archive file {@code archive} to {@code targetDir} (which must not exist); returns its manifest. */
    public static Manifest extract(Path archive, Path targetDir, Limits limits) {
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(archive), 1 << 16)) {
            return extract(in, targetDir, limits);
        } catch (IOException e) {
            throw new BundleException("cannot read " + archive + ": " + e.getMessage(), e);
        }
    }

    /**
     * Extracts the archive read from {@code in} (not closed) to {@code targetDir}, which must not exist: the files
     * go to a fresh directory beside it that is renamed to {@code targetDir} only once the whole archive passed,
     * and is deleted on any failure. Returns the bundle's manifest.
     */
    public static Manifest extract(InputStream in, Path targetDir, Limits limits) {
        Path target = targetDir.toAbsolutePath().normalize();
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new BundleException(target + ": exists; a bundle is extracted to a new directory");
        }
        Path tmp;
        try {
            Files.createDirectories(target.getParent());
            // Same parent, so that the final rename is atomic; createTempDirectory makes it 0700 and new.
            tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".part-");
        } catch (IOException e) {
            throw new BundleException("cannot create a directory beside " + target + ": " + e.getMessage(), e);
        }
        boolean done = false;
        try {
            Manifest manifest = new Run(tmp, limits).extract(in);
            setPermissions(tmp, DIR);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return manifest;
        } catch (IOException e) {
            throw new BundleException("cannot extract to " + target + ": " + e, e);
        } finally {
            if (!done) {
                deleteTree(tmp);
            }
        }
    }

    /** One extraction into a fresh directory. Not thread-safe. */
    private static final class Run {
        private final Path root;
        private final Limits limits;
        /** Entries seen so far by their canonical name, with their type flag, to refuse duplicates. */
        private final Map<String, Byte> seen = new HashMap<>();
        private long totalBytes;
        /** The node's limit on all files together until the manifest is read, then the lower of it and the manifest's. */
        private long maxTotalBytes;
        private String totalLimitName = "limit maxTotalBytes";
        private Manifest manifest;

        Run(Path root, Limits limits) {
            this.root = root;
            this.limits = limits;
            this.maxTotalBytes = limits.maxTotalBytes();
        }

        Manifest extract(InputStream in) throws IOException {
            // Everything decompressed is counted, headers and padding too, so that no part of the stream
            // (long PAX headers, say) can grow without bound.
            long rawLimit = limits.maxTotalBytes() + (limits.maxEntries() + 16L) * OVERHEAD_PER_ENTRY;
            GZIPInputStream gzip;
            try {
                gzip = new GZIPInputStream(nonClosing(in), 1 << 16);
            } catch (IOException e) {
                throw new BundleException("archive: not a valid tar.gz: " + e.getMessage(), e);
            }
            CountingInputStream raw = new CountingInputStream(gzip, rawLimit);
            TarArchiveInputStream tar = new TarArchiveInputStream(raw, StandardCharsets.UTF_8.name());
            int count = 0;
            TarArchiveEntry e;
            while ((e = next(tar)) != null) {
                String name = e.getName();
                if (++count > limits.maxEntries()) {
                    throw new BundleException("entry '" + EntryNames.printable(name) + "': more than "
                            + limits.maxEntries() + " entries (limit maxEntries)");
                }
                entry(tar, e);
            }
            if (manifest == null) {
                throw new BundleException("entry '" + Manifest.FILE + "': missing (a bundle needs a manifest)");
            }
            return manifest;
        }

        /**
         * Parses the manifest as soon as its entry is read, so that its {@code resources.disk} bounds every byte
         * written after it ({@link BundleArchive#build} puts it first); what was written before it counts too.
         */
        private void manifestRead(String shown, byte[] json) {
            try {
                manifest = Manifest.parse(json);
            } catch (BundleException ex) {
                String m = ex.getMessage();
                throw new BundleException("entry '" + Manifest.FILE + "': "
                        + (m.startsWith(Manifest.FILE + ": ") ? m.substring(Manifest.FILE.length() + 2) : m), ex);
            }
            long disk = manifest.resources().diskBytes();
            if (disk < maxTotalBytes) {
                maxTotalBytes = disk;
                totalLimitName = "its " + Manifest.FILE + "'s resources.disk, " + manifest.resources().disk();
            }
            if (totalBytes > maxTotalBytes) {
                throw new BundleException("entry '" + shown + "': the bundle exceeds " + maxTotalBytes
                        + " bytes in all (" + totalLimitName + ")");
            }
        }

        private TarArchiveEntry next(TarArchiveInputStream tar) throws IOException {
            try {
                return tar.getNextEntry();
            } catch (IOException | IllegalArgumentException ex) {
                if (ex.getCause() instanceof BundleException b) {
                    throw b;
                }
                throw new BundleException("archive: not a valid tar.gz: " + ex.getMessage(), ex);
            }
        }

        private void entry(TarArchiveInputStream tar, TarArchiveEntry e) throws IOException {
            String name = e.getName();
            String shown = EntryNames.printable(name);
            List<String> parts = EntryNames.components(name);
            byte type = e.getLinkFlag();
            if (parts.isEmpty()) {
                if (type != TarConstants.LF_DIR) {
                    throw new BundleException("entry '" + shown + "': names the bundle root but is not a directory");
                }
                return; // "./": the root, which exists
            }
            String canonical = String.join("/", parts);
            if (seen.putIfAbsent(canonical, type) != null) {
                throw new BundleException("entry '" + shown + "': duplicate entry");
            }
            Path path = parents(shown, parts);
            try {
                switch (type) {
                    case TarConstants.LF_DIR -> directory(shown, path);
                    case TarConstants.LF_NORMAL, TarConstants.LF_OLDNORM, TarConstants.LF_CONTIG ->
                            file(tar, e, shown, canonical, path);
                    case TarConstants.LF_SYMLINK -> {
                        EntryNames.checkSymlinkTarget(shown, parts, e.getLinkName());
                        Files.createSymbolicLink(path, Path.of(e.getLinkName()));
                    }
                    case TarConstants.LF_LINK -> hardLink(e, shown, path);
                    default -> throw new BundleException("entry '" + shown + "': " + describe(e)
                            + " (a bundle holds only files, directories and links)");
                }
            } catch (FileAlreadyExistsException ex) {
                throw new BundleException("entry '" + shown + "': conflicts with an earlier entry");
            }
        }

        /**
         * Creates the missing directories above an entry and returns its path. An existing component must be a
         * real directory: a path through a symlink (say {@code link -> /etc}, then {@code link/passwd}) is
         * refused here, which is what keeps every write inside the root.
         */
        private Path parents(String shown, List<String> parts) throws IOException {
            Path p = root;
            for (int i = 0; i < parts.size() - 1; i++) {
                p = p.resolve(parts.get(i));
                if (Files.isSymbolicLink(p)) {
                    throw new BundleException("entry '" + shown + "': goes through symlink '"
                            + String.join("/", parts.subList(0, i + 1)) + "'");
                }
                if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectory(p, PosixFilePermissions.asFileAttribute(DIR));
                    setPermissions(p, DIR); // the umask may have taken bits away
                } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw new BundleException("entry '" + shown + "': '" + String.join("/", parts.subList(0, i + 1))
                            + "' is not a directory");
                }
            }
            return p.resolve(parts.get(parts.size() - 1));
        }

        private void directory(String shown, Path path) throws IOException {
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                return; // made earlier as the parent of an entry listed before it
            }
            Files.createDirectory(path, PosixFilePermissions.asFileAttribute(DIR));
            setPermissions(path, DIR);
        }

        private void file(TarArchiveInputStream tar, TarArchiveEntry e, String shown, String canonical, Path path)
                throws IOException {
            if (e.isSparse()) {
                throw new BundleException("entry '" + shown + "': sparse files are not supported");
            }
            if (e.getSize() > limits.maxEntryBytes()) { // cheap early refusal; the bytes read are what counts
                throw new BundleException("entry '" + shown + "': larger than " + limits.maxEntryBytes()
                        + " bytes (limit maxEntryBytes)");
            }
            if (totalBytes + e.getSize() > maxTotalBytes) {
                throw new BundleException("entry '" + shown + "': the bundle exceeds " + maxTotalBytes
                        + " bytes in all (" + totalLimitName + ")");
            }
            boolean isManifest = canonical.equals(Manifest.FILE);
            ByteArrayOutputStream manifestJson = isManifest ? new ByteArrayOutputStream() : null;
            // CREATE_NEW never follows a symlink that is already there: it fails instead.
            try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                byte[] buf = new byte[64 * 1024];
                long size = 0;
                int n;
                while ((n = read(tar, buf, shown)) > 0) {
                    size += n;
                    totalBytes += n;
                    if (size > limits.maxEntryBytes()) {
                        throw new BundleException("entry '" + shown + "': more than " + limits.maxEntryBytes()
                                + " bytes (limit maxEntryBytes)");
                    }
                    if (totalBytes > maxTotalBytes) {
                        throw new BundleException("entry '" + shown + "': the bundle exceeds " + maxTotalBytes
                                + " bytes in all (" + totalLimitName + ")");
                    }
                    if (isManifest) {
                        if (size > BundleArchive.MAX_MANIFEST_BYTES) {
                            throw new BundleException("entry '" + shown + "': larger than 1 MiB");
                        }
                        manifestJson.write(buf, 0, n);
                    }
                    out.write(buf, 0, n);
                }
            }
            // Only the owner's exec bit is kept: never setuid, setgid, sticky, or writable by others.
            setPermissions(path, (e.getMode() & 0100) != 0 ? EXEC : FILE);
            if (isManifest) {
                manifestRead(shown, manifestJson.toByteArray());
            }
        }

        private static int read(TarArchiveInputStream tar, byte[] buf, String shown) {
            try {
                return tar.read(buf);
            } catch (IOException e) {
                throw new BundleException("entry '" + shown + "': archive truncated or corrupt: " + e.getMessage(), e);
            }
        }

        private void hardLink(TarArchiveEntry e, String shown, Path path) throws IOException {
            String linkName = e.getLinkName();
            List<String> target;
            try {
                target = EntryNames.components(linkName);
            } catch (BundleException ex) {
                throw new BundleException("entry '" + shown + "': hard link to '" + EntryNames.printable(linkName)
                        + "' outside the bundle");
            }
            Byte type = seen.get(String.join("/", target));
            boolean regular = type != null && (type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM
                    || type == TarConstants.LF_CONTIG);
            if (target.isEmpty() || !regular) {
                throw new BundleException("entry '" + shown + "': hard link to '" + EntryNames.printable(linkName)
                        + "', which is not an earlier file of the bundle");
            }
            // The target is a regular file this extraction wrote (parents() refused any symlink on its way).
            Files.createLink(path, root.resolve(String.join("/", target)));
        }
    }

    private static String describe(TarArchiveEntry e) {
        if (e.isCharacterDevice()) {
            return "character device";
        }
        if (e.isBlockDevice()) {
            return "block device";
        }
        if (e.isFIFO()) {
            return "FIFO";
        }
        return "unsupported entry type '" + (char) e.getLinkFlag() + "'";
    }

    private static void setPermissions(Path p, Set<PosixFilePermission> perms) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        if (view != null) {
            view.setPermissions(perms);
        }
    }

    /** Deletes a tree without following symlinks (a link's target is never touched). */
    static void deleteTree(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort: the directory is hidden (a dot name) and the caller reports the first failure
        }
    }

    private static InputStream nonClosing(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public void close() {
                // the caller's stream: the caller closes it
            }
        };
    }

    /** Counts the bytes decompressed and stops at a limit, whatever the headers claim. */
    private static final class CountingInputStream extends FilterInputStream {
        private final long limit;
        private long count;

        CountingInputStream(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // Skipping decompresses too: read instead, so that skipped bytes are counted.
            byte[] buf = new byte[(int) Math.min(n, 8192)];
            int r = read(buf, 0, buf.length);
            return Math.max(r, 0);
        }

        private void add(int n) {
            count += n;
            if (count > limit) {
                throw new BundleException("archive: decompresses to more than " + limit
                        + " bytes (limits maxTotalBytes and maxEntries)");
            }
        }
    }
}
