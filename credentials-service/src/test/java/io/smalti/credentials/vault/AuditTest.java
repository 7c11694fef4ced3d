package io.smalti.credentials.vault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.Identity;
import io.smalti.protocol.credentials.VaultOperation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditTest {
    @TempDir
    Path dir;

    private static AuditEvent event(int i) {
        return AuditEvent.newBuilder().setTimeMs(1_700_000_000_000L + i)
                .setCaller(Identity.newBuilder().setSubsystem("harness").setUid("c" + i).setNode("n1"))
                .setComponentType("billing").setOperation(VaultOperation.HMAC).setCredential("payments/stripe")
                .setOutcome(i % 3 == 0 ? AuditEvent.Outcome.DENIED : AuditEvent.Outcome.ALLOWED)
                .setReason(i % 3 == 0 ? "no rule lets \"c" + i + "\" run HMAC" : "")
                .setInputLength(i).setInputSha256(Audit.hash(("input " + i).getBytes(StandardCharsets.UTF_8))).build();
    }

    @Test
    void eventsReadBackAsWrittenLatestLastAndTheLogStaysUnderTwiceItsLimit() throws Exception {
        try (Audit audit = new Audit(dir, 4096)) {
            for (int i = 0; i < 200; i++) {
                audit.record(event(i));
                assertTrue(Files.size(dir.resolve(Audit.FILE)) <= 4096, "rotated before passing its limit");
            }
            assertTrue(Files.size(dir.resolve(Audit.ROTATED)) <= 4096);
            assertEquals(List.of(event(195), event(196), event(197), event(198), event(199)), audit.latest(5));
            List<AuditEvent> all = audit.latest(Audit.MAX_LATEST);
            assertTrue(all.size() > 10 && all.size() < 200, "only what the two files hold: " + all.size());
            for (int i = 0; i < all.size(); i++) {
                assertEquals(event(200 - all.size() + i), all.get(i));
            }
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(Audit.FILE))));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(Audit.ROTATED))));
        }
        // Reopened, it appends; a line a crash cut short is skipped, not fatal.
        Files.writeString(dir.resolve(Audit.FILE), "{\"time\":\"2026-01-0", StandardOpenOption.APPEND);
        try (Audit audit = new Audit(dir, 4096)) {
            audit.record(event(200));
            assertEquals(List.of(event(198), event(199), event(200)), audit.latest(3));
        }
    }

    @Test
    void aLineIsJsonNamingWhoWhatWhichOutcomeAndWhy() {
        String line = Audit.json(event(3));
        assertEquals("{\"time\":\"2023-11-14T22:13:20.003Z\",\"subsystem\":\"harness\",\"uid\":\"c3\",\"node\":\"n1\","
                + "\"componentType\":\"billing\",\"operation\":\"HMAC\",\"credential\":\"payments/stripe\",\"outcome\":\"DENIED\","
                + "\"reason\":\"no rule lets \\\"c3\\\" run HMAC\",\"inputLength\":3,\"inputSha256\":\""
                + Audit.hash("input 3".getBytes(StandardCharsets.UTF_8)) + "\"}", line);
        assertEquals(event(3), Audit.parse(line));
        AuditEvent odd = event(4).toBuilder().setReason("line 1\nline 2\t\"q\" \\ \u0001 \u2028 é ሴ").setCredential("a/b:c@d").build();
        String oddLine = Audit.json(odd);
        assertTrue(oddLine.chars().noneMatch(c -> c < 0x20 || c == 0x2028), oddLine);
        assertEquals(odd, Audit.parse(oddLine));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Audit(dir, 100)).getMessage().contains("4096"));
    }
}
