package io.smalti.hub.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.smalti.ring.Ring;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import io.smalti.ring.vnode.KeySpace;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Names the hub accepts (component ids, group names) and where a component's records lie on the ring. */
class HubKeysTest {

    @Test
    void aComponentIdIsAcceptedInEitherCaseAndGivenBackInLowerCase() {
        String id = Id.random(Category.INSTANCE, new Random(1)).toString();
        assertEquals(id, HubKeys.checkComponent(id.toUpperCase()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "0123456789abcdef0123456789abcdef012345678",
            "0123456789abcdef0123456789abcdef0123456z", "0000000000000000000000000000000000000000"})
    void aMalformedComponentIdIsRefused(String id) {
        assertThrows(IllegalArgumentException.class, () -> HubKeys.checkComponent(id));
    }

    @Test
    void aGroupNameHasOneTo200CharactersWithoutControlCharacters() {
        for (String ok : List.of("g", "x".repeat(200), "échos/été 2026")) {
            assertEquals(ok, HubKeys.checkGroup(ok));
        }
        for (String bad : List.of("", "x".repeat(201), "tab\there", "nul\u0000", "del\u007f")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HubKeys.checkGroup(bad));
            assertFalse(e.getMessage().chars().anyMatch(Character::isISOControl), "the message prints no control characters");
        }
    }

    @Test
    void aComponentsRecordsLieOnItsOwnVnode() {
        String[] owners = new String[64];
        Arrays.fill(owners, "n1");
        Ring ring = Ring.of(1, 1, owners, "n1", 0);
        Random random = new Random(7);
        for (int i = 0; i < 100; i++) {
            Id id = Id.random(Category.INSTANCE, random);
            int home = ring.vnodeOf(id);
            String c = id.toString();
            for (String key : List.of(HubKeys.location(c), HubKeys.watchers(c), HubKeys.attributes(c))) {
                assertEquals(home, KeySpace.vnode(ring, key), key);
            }
        }
    }
}
