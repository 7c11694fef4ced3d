package io.smalti.component.instances;

import io.smalti.protocol.component.InstanceStatus;
import io.smalti.protocol.component.Placement;
import java.util.Optional;

/**
 * An instance as the controller knows it: where it was placed and what its node last reported (absent
 * until the node has said anything). Immutable.
 */
public record InstanceView(Placement placement, Optional<InstanceStatus> status) {

    public String id() {
        return placement.getId();
    }

    /** The reported state; {@code preparing} until the node reports. */
    public InstanceState state() {
        return status.map(s -> InstanceState.of(s.getState())).orElse(InstanceState.PREPARING);
    }

    /** Counts towards the type's desired count: wanted running and not ended. */
    public boolean live() {
        return placement.getGoal() == Placement.Goal.RUN && state().live();
    }
}
