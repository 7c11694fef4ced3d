package io.smalti.component.instances;

import static io.smalti.component.instances.InstanceState.AVAILABLE;
import static io.smalti.component.instances.InstanceState.DESTROYED;
import static io.smalti.component.instances.InstanceState.DESTROYING;
import static io.smalti.component.instances.InstanceState.FAILED;
import static io.smalti.component.instances.InstanceState.INITIALIZING;
import static io.smalti.component.instances.InstanceState.PREPARING;
import static io.smalti.component.instances.InstanceState.STOPPING;
import static io.smalti.component.instances.InstanceState.UNAVAILABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The thesis life-cycle of an instance: which changes it allows, and how states read and print. */
class InstanceStateTest {
    private static final Set<InstanceState> LIVE = EnumSet.of(PREPARING, INITIALIZING, AVAILABLE, UNAVAILABLE);

    @Test
    void theHappyPathIsAllowedStepByStep() {
        assertTrue(PREPARING.canBecome(INITIALIZING));
        assertTrue(INITIALIZING.canBecome(AVAILABLE));
        assertTrue(AVAILABLE.canBecome(UNAVAILABLE));
        assertTrue(UNAVAILABLE.canBecome(AVAILABLE), "available and unavailable alternate");
        assertTrue(INITIALIZING.canBecome(UNAVAILABLE));
        assertTrue(AVAILABLE.canBecome(STOPPING));
        assertTrue(STOPPING.canBecome(DESTROYING));
        assertTrue(DESTROYING.canBecome(DESTROYED));
    }

    @Test
    void everyLiveStateCanBeStoppedOrDestroyed() {
        for (InstanceState s : LIVE) {
            assertTrue(s.canBecome(STOPPING), s + " -> stopping");
            assertTrue(s.canBecome(DESTROYING), s + " -> destroying (forced)");
        }
    }

    @Test
    void everyStateButDestroyedAndFailedItselfCanFail() {
        for (InstanceState s : InstanceState.values()) {
            if (s != DESTROYED && s != FAILED) {
                assertTrue(s.canBecome(FAILED), s + " -> failed");
            }
        }
        assertFalse(DESTROYED.canBecome(FAILED), "a destroyed instance cannot fail any more");
        assertTrue(FAILED.canBecome(DESTROYING), "a failed instance is cleaned up");
        assertTrue(FAILED.canBecome(DESTROYED));
    }

    @Test
    void destroyedIsFinal() {
        for (InstanceState s : InstanceState.values()) {
            assertFalse(DESTROYED.canBecome(s), "destroyed -> " + s);
        }
    }

    @Test
    void noStepBackwardsOrSkippingTheStart() {
        assertFalse(PREPARING.canBecome(AVAILABLE), "available only after initializing");
        assertFalse(PREPARING.canBecome(UNAVAILABLE));
        assertFalse(AVAILABLE.canBecome(PREPARING));
        assertFalse(AVAILABLE.canBecome(INITIALIZING));
        assertFalse(UNAVAILABLE.canBecome(INITIALIZING));
        assertFalse(STOPPING.canBecome(AVAILABLE), "a stopping instance does not come back");
        assertFalse(STOPPING.canBecome(UNAVAILABLE));
        assertFalse(DESTROYING.canBecome(STOPPING));
        assertFalse(DESTROYING.canBecome(AVAILABLE));
        assertFalse(FAILED.canBecome(AVAILABLE), "a failed instance is replaced, not revived");
        assertFalse(FAILED.canBecome(INITIALIZING));
        assertFalse(FAILED.canBecome(STOPPING));
        for (InstanceState s : InstanceState.values()) {
            assertFalse(s.canBecome(PREPARING), s + " -> preparing: only a new instance prepares");
        }
    }

    @Test
    void liveAndEnded() {
        for (InstanceState s : InstanceState.values()) {
            assertEquals(LIVE.contains(s), s.live(), s + ".live()");
            assertEquals(s == DESTROYED || s == FAILED, s.ended(), s + ".ended()");
            assertFalse(s.live() && s.ended(), s + " is not both live and ended");
        }
        assertFalse(STOPPING.live(), "a stopping instance does not count towards the desired count");
        assertFalse(STOPPING.ended(), "but it is not over yet");
        assertFalse(DESTROYING.live());
        assertFalse(DESTROYING.ended());
    }

    @Test
    void textRoundTripsAndIsLowerCase() {
        for (InstanceState s : InstanceState.values()) {
            assertEquals(s.name().toLowerCase(), s.text());
            assertEquals(s, InstanceState.of(s.text()));
        }
        assertEquals(AVAILABLE, InstanceState.of("Available"), "case does not matter");
        assertEquals(DESTROYED, InstanceState.of("DESTROYED"));
    }

    @Test
    void unknownTextIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InstanceState.of("running"));
        assertEquals("unknown instance state 'running'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InstanceState.of(""));
        assertEquals("unknown instance state ''", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InstanceState.of(" available"));
        assertEquals("unknown instance state ' available'", e.getMessage());
    }
}
