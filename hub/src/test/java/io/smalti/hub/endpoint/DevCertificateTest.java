package io.smalti.hub.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub's development certificate on disk: made once, kept, and readable by the node's user only. */
class DevCertificateTest {
    @TempDir
    Path dataDir;

    @Test
    void theKeyAndItsDirectoryAreOwnerOnlyAndKept() throws Exception {
        DevCertificate c = DevCertificate.loadOrCreate(dataDir, "127.0.0.1");
        assertEquals("rwx------", mode(dataDir.resolve("hub")));
        assertEquals("rw-------", mode(c.key()));
        assertEquals("rw-------", mode(c.certificate()));
        assertEquals(c.certificatePem(), DevCertificate.loadOrCreate(dataDir, "127.0.0.1").certificatePem(),
                "the same certificate on the next start: harnesses pin it");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
