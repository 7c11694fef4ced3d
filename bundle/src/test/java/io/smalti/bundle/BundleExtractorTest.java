package io.smalti.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safe extraction: a good bundle extracts whole; each malicious archive is refused and leaves nothing. */
class BundleExtractorTest {
    @TempDir
    Path temp;
    private Path parent;
    private Path target;
    /** A path outside the test's directory that an evil archive aims at; it must never appear. */
    private final String evil = "/tmp/smalti-evil-" + UUID.randomUUID();

    @BeforeEach
    void dirs() throws IOException {
        parent = Files.createDirectories(temp.resolve("a/b/c"));
        target = parent.resolve("bundle");
    }

    private List<String> everything() throws IOException {
        try (Stream<Path> s = Files.walk(temp)) {
            return s.map(p -> temp.relativize(p).toString()).sorted().toList();
        }
    }

    /** Extracts, expects a refusal whose message starts with {@code expected}, and checks nothing was left. */
    private void refused(String expected, byte[] archive) throws IOException {
        refused(expected, archive, Limits.DEFAULTS);
    }

    private void refused(String expected, byte[] archive, Limits limits) throws IOException {
        List<String> before = everything();
        BundleException e = assertThrows(BundleException.class, () -> BundleExtractor.extract(archive, target, limits));
        assertTrue(e.getMessage().startsWith(expected), "message: " + e.getMessage());
        assertEquals(before, everything(), "the extraction left something behind");
        assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(Path.of(evil), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(Path.of("/tmp/evil"), LinkOption.NOFOLLOW_LINKS) && !existedBefore);
    }

    private final boolean existedBefore = Files.exists(Path.of("/tmp/evil"), LinkOption.NOFOLLOW_LINKS);

    @Test
    void extractsAGoodBundleWhole() throws IOException {
        byte[] archive = Tars.withManifest().dir("bin").file("bin/run", "#!/bin/sh\n".getBytes(), 04755)
                .file("lib/a.txt", "a".getBytes(), 0666).symlink("lib/current", "a.txt")
                .symlink("bin/lib", "../lib").hardLink("lib/b.txt", "lib/a.txt").bytes();
        Manifest m = BundleExtractor.extract(archive, target, Limits.DEFAULTS);
        assertEquals("t", m.name());
        assertEquals("rwxr-xr-x", perms(target));
        assertEquals("rwxr-xr-x", perms(target.resolve("bin/run"))); // exec kept, setuid dropped
        assertEquals("rw-r--r--", perms(target.resolve("lib/a.txt"))); // no longer writable by others
        assertEquals("rwxr-xr-x", perms(target.resolve("lib")));
        assertEquals(Path.of("a.txt"), Files.readSymbolicLink(target.resolve("lib/current")));
        assertEquals("a", Files.readString(target.resolve("bin/lib/b.txt")));
        assertEquals(List.of("a", "a/b", "a/b/c", "a/b/c/bundle"), everything().subList(1, 5));
        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(target), s.toList()); // no temp directory left beside it
        }
        BundleException e = assertThrows(BundleException.class,
                () -> BundleExtractor.extract(archive, target, Limits.DEFAULTS));
        assertEquals(target + ": exists; a bundle is extracted to a new directory", e.getMessage());
    }

    private static String perms(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void refusesPathTraversal() throws IOException {
        refused("entry '../evil': '..' in path", Tars.withManifest().file("../evil", "x").bytes());
        refused("entry 'lib/../../evil': '..' in path", Tars.withManifest().file("lib/../../evil", "x").bytes());
    }

    @Test
    void refusesAbsolutePaths() throws IOException {
        refused("entry '" + evil + "': absolute path", Tars.withManifest().file(evil, "x").bytes());
        refused("entry '/tmp/evil': absolute path", Tars.withManifest().file("/tmp/evil", "x").bytes());
    }

    @Test
    void refusesASymlinkOutAndAFileThroughIt() throws IOException {
        refused("entry 'link': symlink to absolute path '/etc' leaves the bundle",
                Tars.withManifest().symlink("link", "/etc").file("link/passwd", "root::0:0::/:/bin/sh").bytes());
        // Even a link that stays inside is not a way to write: files go only into real directories.
        refused("entry 'link/passwd': goes through symlink 'link'",
                Tars.withManifest().dir("etc").symlink("link", "etc").file("link/passwd", "x").bytes());
    }

    @Test
    void refusesSymlinksThatClimbOut() throws IOException {
        refused("entry 'x': symlink target '../../x' leaves the bundle",
                Tars.withManifest().symlink("x", "../../x").bytes());
        refused("entry 'lib/x': symlink target '../../x' leaves the bundle",
                Tars.withManifest().symlink("lib/x", "../../x").bytes());
        // 'self' -> '.' is inside, but 'self/..' on disk is the parent of the root.
        refused("entry 'up': symlink target 'self/..' has '..' after a name",
                Tars.withManifest().symlink("self", ".").symlink("up", "self/..").bytes());
    }

    @Test
    void refusesHardLinksOutOrToNothing() throws IOException {
        refused("entry 'passwd': hard link to '/etc/passwd' outside the bundle",
                Tars.withManifest().hardLink("passwd", "/etc/passwd").bytes());
        refused("entry 'x': hard link to '../x' outside the bundle", Tars.withManifest().hardLink("x", "../x").bytes());
        refused("entry 'x': hard link to 'later', which is not an earlier file of the bundle",
                Tars.withManifest().hardLink("x", "later").file("later", "y").bytes());
        refused("entry 'x': hard link to 'link', which is not an earlier file of the bundle",
                Tars.withManifest().symlink("link", "bundle.json").hardLink("x", "link").bytes());
    }

    @Test
    void refusesDevicesAndFifos() throws IOException {
        refused("entry 'dev/null': character device", Tars.withManifest().special("dev/null", TarConstants.LF_CHR).bytes());
        refused("entry 'sda': block device", Tars.withManifest().special("sda", TarConstants.LF_BLK).bytes());
        refused("entry 'pipe': FIFO", Tars.withManifest().special("pipe", TarConstants.LF_FIFO).bytes());
    }

    @Test
    void refusesABomb() throws IOException {
        byte[] bomb = Tars.withManifest().zeros("zeros", 300L << 20).bytes();
        assertTrue(bomb.length < 1 << 20, "300 MiB of zeros compress to " + bomb.length);
        refused("entry 'zeros': larger than 1048576 bytes (limit maxEntryBytes)", bomb, new Limits(10, 1 << 20, 2 << 20));
        // Counted as decompressed, entry by entry, whatever the header said about the one before.
        refused("entry 'two': the bundle exceeds 2097152 bytes in all (limit maxTotalBytes)",
                Tars.withManifest().zeros("one", 1 << 20).zeros("two", 1 << 20).zeros("zeros", 1 << 20).bytes(),
                new Limits(10, 1 << 20, 2 << 20));
    }

    @Test
    void theManifestsDiskLimitBoundsTheBundle() throws IOException {
        String small = Tars.MANIFEST.replace("}}", "},\"resources\":{\"disk\":\"1M\"}}");
        // Files after the manifest (BundleArchive.build puts it first) are held to it as they are written.
        refused("entry 'b': the bundle exceeds 1048576 bytes in all (its bundle.json's resources.disk, 1M)",
                new Tars().file("bundle.json", small).zeros("a", 512 << 10).zeros("b", 600 << 10).bytes());
        // Files before it count too: the bundle is refused as soon as the manifest says so.
        refused("entry 'bundle.json': the bundle exceeds 1048576 bytes in all (its bundle.json's resources.disk, 1M)",
                new Tars().zeros("a", 600 << 10).zeros("b", 600 << 10).file("bundle.json", small).bytes());
        // The node's limit stays in force when the manifest allows more.
        refused("entry 'b': the bundle exceeds 1048576 bytes in all (limit maxTotalBytes)",
                new Tars().file("bundle.json", small.replace("1M", "1G")).zeros("a", 512 << 10).zeros("b", 600 << 10)
                        .bytes(), new Limits(10, 1 << 20, 1 << 20));
        Manifest m = BundleExtractor.extract(new Tars().file("bundle.json", small).zeros("a", 512 << 10).bytes(), target,
                Limits.DEFAULTS);
        assertEquals(1 << 20, m.resources().diskBytes());
    }

    /**
     * A bomb (here 64 MiB of zeros in 1 MiB files, 64 KiB compressed) writes at most the limit before it is refused:
     * measured as the bytes this process passed to write(2) meanwhile ({@code wchar} of /proc/self/io).
     */
    @Test
    void aBombWritesAtMostItsLimitToDisk() throws IOException {
        Tars t = Tars.withManifest();
        for (int i = 0; i < 64; i++) {
            t.zeros(String.format("zeros/%02d", i), 1 << 20);
        }
        byte[] bomb = t.bytes();
        assertTrue(bomb.length < 1 << 20, "64 MiB of zeros compress to " + bomb.length);
        long before = writtenByThisProcess();
        // The manifest's bytes count too: the eighth file would pass the limit.
        refused("entry 'zeros/07': the bundle exceeds 8388608 bytes in all (limit maxTotalBytes)", bomb,
                new Limits(100, 1 << 20, 8 << 20));
        long written = writtenByThisProcess() - before;
        assertTrue(written <= (8 << 20) + (256 << 10), "wrote " + written + " bytes for a limit of 8 MiB");
    }

    /** The bytes this process passed to write(2) so far; the test is skipped where /proc does not tell. */
    static long writtenByThisProcess() throws IOException {
        Path io = Path.of("/proc/self/io");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(io), "no /proc/self/io here");
        for (String line : Files.readAllLines(io)) {
            if (line.startsWith("wchar:")) {
                return Long.parseLong(line.substring("wchar:".length()).trim());
            }
        }
        throw new IllegalStateException("no wchar in /proc/self/io");
    }

    @Test
    void refusesTooManyEntries() throws IOException {
        Tars t = Tars.withManifest();
        for (int i = 0; i < 20; i++) {
            t.file("f" + i, "x");
        }
        refused("entry 'f9': more than 10 entries (limit maxEntries)", t.bytes(), new Limits(10, 1 << 20, 1 << 20));
    }

    @Test
    void refusesAMissingOrMalformedManifest() throws IOException {
        refused("entry 'bundle.json': missing", new Tars().file("run.sh", "x").bytes());
        refused("entry 'bundle.json': not valid JSON", new Tars().file("bundle.json", "{").bytes());
        refused("entry 'bundle.json': resources.memory: must be like 256M",
                new Tars().file("bundle.json", Tars.MANIFEST.replace("}}", "},\"resources\":{\"memory\":\"x\"}}"))
                        .bytes());
        refused("archive: not a valid tar.gz", "not an archive".getBytes(StandardCharsets.UTF_8));
        byte[] noise = new byte[50_000];
        new java.util.Random(1).nextBytes(noise); // incompressible, so that the cut falls inside this file
        byte[] good = Tars.withManifest().file("lib/a", noise, 0644).bytes();
        refused("entry 'lib/a': archive truncated or corrupt", java.util.Arrays.copyOf(good, good.length - 1000));
    }

    @Test
    void refusesDuplicateEntries() throws IOException {
        refused("entry 'lib/a': duplicate entry", Tars.withManifest().file("lib/a", "1").file("lib/a", "2").bytes());
        refused("entry './lib/a': duplicate entry", Tars.withManifest().file("lib/a", "1").file("./lib/a", "2").bytes());
        refused("entry 'bundle.json': duplicate entry", Tars.withManifest().file("bundle.json", Tars.MANIFEST).bytes());
        refused("entry 'lib': conflicts with an earlier entry", Tars.withManifest().file("lib/a", "1").file("lib", "2")
                .bytes());
    }
}
