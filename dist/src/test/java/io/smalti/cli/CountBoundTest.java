package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.smalti.component.instances.ComponentController;
import org.junit.jupiter.api.Test;

/**
 * The CLI refuses an instance count before sending it, by its own copy of the API's bound (it does not depend on the
 * component controller): the two must agree. Here, in the CLI's package, because only this module has both.
 */
class CountBoundTest {
    @Test
    void theCliRefusesExactlyTheCountsTheControllerRefuses() {
        assertEquals(ComponentController.MAX_COUNT, Components.MAX_COUNT);
    }
}
