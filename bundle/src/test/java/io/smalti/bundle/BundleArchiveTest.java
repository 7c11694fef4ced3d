package io.smalti.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleArchiveTest {
    @TempDir
    Path temp;

    /** A bundle directory with a manifest, a nested executable, a long name and a symlink. */
    private Path tree(String name) throws IOException {
        Path dir = Files.createDirectories(temp.resolve(name));
        Files.writeString(dir.resolve("bundle.json"), Tars.MANIFEST);
        Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("bin/run"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(dir.resolve("bin/run"), PosixFilePermissions.fromString("rwxr-x---"));
        Path deep = Files.createDirectories(dir.resolve("lib/" + "d".repeat(120) + "/" + "e".repeat(120)));
        Files.writeString(deep.resolve("data.txt"), "data");
        Files.createDirectories(dir.resolve("empty"));
        Files.createSymbolicLink(dir.resolve("bin/lib"), Path.of("../lib"));
        return dir;
    }

    @Test
    void sameTreeGivesTheSameDigest() throws Exception {
        Path one = tree("one");
        byte[] first = BundleArchive.build(one);
        Thread.sleep(1100); // other times, other owner-visible state: nothing of it may reach the archive
        Path two = tree("two");
        Files.setLastModifiedTime(two.resolve("bin/run"), FileTime.fromMillis(12345));
        Files.setPosixFilePermissions(two.resolve("bundle.json"), PosixFilePermissions.fromString("rw-------"));
        byte[] second = BundleArchive.build(two);
        assertEquals(BundleArchive.digest(first), BundleArchive.digest(second));
        assertTrue(BundleArchive.digest(first).matches("[0-9a-f]{64}"));

        Files.writeString(two.resolve("bin/run"), "#!/bin/sh\necho ho\n");
        assertNotEquals(BundleArchive.digest(first), BundleArchive.digest(BundleArchive.build(two)));

        Path file = temp.resolve("out/x.tar.gz");
        Files.createDirectories(file.getParent());
        BundleArchive.build(one, file);
        assertEquals(BundleArchive.digest(first), BundleArchive.digest(Files.readAllBytes(file)));
    }

    @Test
    void builtArchiveExtractsToTheSameTree() throws Exception {
        byte[] archive = BundleArchive.build(tree("src"));
        // The manifest first, so that its resources.disk bounds the extraction of everything else.
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
                new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(archive)))) {
            assertEquals("bundle.json", tar.getNextEntry().getName());
            assertEquals("bin/", tar.getNextEntry().getName());
        }
        assertEquals("t", BundleArchive.readManifest(archive).name());
        Path out = temp.resolve("out");
        BundleExtractor.extract(archive, out, Limits.DEFAULTS);
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("bin/run"))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("bundle.json"))));
        assertEquals(Path.of("../lib"), Files.readSymbolicLink(out.resolve("bin/lib")));
        assertTrue(Files.isDirectory(out.resolve("empty")));
        assertEquals("data", Files.readString(out.resolve("bin/lib/" + "d".repeat(120) + "/" + "e".repeat(120)
                + "/data.txt")));
    }

    @Test
    void refusesATreeWithoutAValidManifestOrWithASymlinkOut() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("bad"));
        BundleException e = assertThrows(BundleException.class, () -> BundleArchive.build(dir));
        assertTrue(e.getMessage().endsWith("no bundle.json (a regular file) at the top"), e.getMessage());

        Files.writeString(dir.resolve("bundle.json"), "{\"name\":\"x\"}");
        e = assertThrows(BundleException.class, () -> BundleArchive.build(dir));
        assertEquals("version: required", e.getMessage());

        Files.writeString(dir.resolve("bundle.json"), Tars.MANIFEST);
        Files.createSymbolicLink(dir.resolve("etc"), Path.of("/etc"));
        e = assertThrows(BundleException.class, () -> BundleArchive.build(dir));
        assertEquals("entry 'etc': symlink to absolute path '/etc' leaves the bundle", e.getMessage());

        Files.delete(dir.resolve("etc"));
        Files.createDirectories(dir.resolve("lib"));
        Files.createSymbolicLink(dir.resolve("lib/up"), Path.of("../../x"));
        e = assertThrows(BundleException.class, () -> BundleArchive.build(dir));
        assertEquals("entry 'lib/up': symlink target '../../x' leaves the bundle", e.getMessage());
    }
}
