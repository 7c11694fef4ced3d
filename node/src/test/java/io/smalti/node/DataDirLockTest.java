package io.smalti.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondAgentIsRefusedTheSameDataDirectory() throws Exception {
        Path data = dir.resolve("data");
        DataDirLock first = DataDirLock.acquire(data);
        // Within one JVM the second lock attempt fails the same way a second process would.
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DataDirLock.acquire(data));
        assertTrue(e.getMessage().contains("is in use by another node agent"), e.getMessage());
        first.close();
        DataDirLock.acquire(data).close(); // free again once released
    }

    @Test
    void anUnusableDirectoryIsReported() throws Exception {
        Path file = dir.resolve("plain-file");
        java.nio.file.Files.writeString(file, "x");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DataDirLock.acquire(file.resolve("data")));
        assertTrue(e.getMessage().contains("cannot create data directory"), e.getMessage());
    }

    @Test
    void theDataDirectoryAndItsLockAreReadableByTheOwnerOnly() throws Exception {
        Path data = dir.resolve("new/data");
        try (DataDirLock lock = DataDirLock.acquire(data)) {
            assertEquals("rwx------", mode(data));
            assertEquals("rw-------", mode(data.resolve(DataDirLock.FILE_NAME)));
        }
        // One an earlier version made, 0755 with a 0644 lock file, is made owner-only on the next start.
        Path old = Files.createDirectories(dir.resolve("old"));
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(old.resolve(DataDirLock.FILE_NAME), "1");
        Files.setPosixFilePermissions(old.resolve(DataDirLock.FILE_NAME), PosixFilePermissions.fromString("rw-r--r--"));
        try (DataDirLock lock = DataDirLock.acquire(old)) {
            assertEquals("rwx------", mode(old));
            assertEquals("rw-------", mode(old.resolve(DataDirLock.FILE_NAME)));
        }
    }

    /**
     * What a node keeps directly in its data directory (here as H2 and the drivers leave it) becomes owner-only;
     * what containers read below it through mounts (an extracted bundle, the harness's class archive) does not.
     */
    @Test
    void whatANodeKeepsInItsDataDirectoryBecomesOwnerOnlyButNotWhatContainersRead() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Path journal = Files.writeString(data.resolve("journal.mv.db"), "h2");
        Files.setPosixFilePermissions(journal, PosixFilePermissions.fromString("rw-r--r--"));
        Path bundle = Files.createDirectories(data.resolve("bundles/" + "a".repeat(64)));
        Files.setPosixFilePermissions(data.resolve("bundles"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(bundle, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = Files.writeString(bundle.resolve("bundle.json"), "{}");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "x");
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(data.resolve("link"), elsewhere);

        OwnerOnly.restrictDataDir(data);
        assertEquals("rwx------", mode(data));
        assertEquals("rw-------", mode(journal));
        assertEquals("rwx------", mode(data.resolve("bundles")));
        assertEquals("rwxr-xr-x", mode(bundle), "an extracted bundle stays as it was extracted");
        assertEquals("rw-r--r--", mode(file));
        assertEquals("rw-r--r--", mode(elsewhere), "a link is not followed");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }
}
