package io.smalti.ring.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.protocol.cluster.RingState;
import io.smalti.ring.Ring;
import io.smalti.ring.claim.Claim;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RingStoreTest {
    @TempDir
    Path dir;

    @Test
    void storesAndReloadsTheLastRing() throws Exception {
        RingStore store = new RingStore(dir);
        assertTrue(store.load().isEmpty());
        Ring r1 = Ring.of(1, 3, Claim.claim(null, 64, List.of("a", "b", "c"), 3).owners(), "a", 10);
        Ring r2 = Ring.of(2, 3, Claim.claim(r1.ownersByVnode(), 64, List.of("a", "b", "c", "d"), 3).owners(), "a", 20);
        store.save(r1);
        store.save(r2);
        assertEquals(r2, new RingStore(dir).load().orElseThrow());
        assertTrue(Files.notExists(dir.resolve(RingStore.FILE_NAME + ".tmp")));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(RingStore.FILE_NAME))), "readable by the node's user only");
    }

    @Test
    void corruptFilesAreReportedWithTheirPath() throws Exception {
        Files.write(dir.resolve(RingStore.FILE_NAME), new byte[] {1, 2, 3, 4});
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new RingStore(dir).load());
        assertTrue(e.getMessage().contains(RingStore.FILE_NAME), e.getMessage());

        RingState inconsistent = RingState.newBuilder().setEpoch(1).setRingSize(8).setReplicas(3)
                .addNodes("a").addOwners(0).build();
        Files.write(dir.resolve(RingStore.FILE_NAME), inconsistent.toByteArray());
        e = assertThrows(IllegalStateException.class, () -> new RingStore(dir).load());
        assertTrue(e.getMessage().contains("lists 1 owners for 8 vnodes"), e.getMessage());
    }
}
