package io.smalti.node;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
}
