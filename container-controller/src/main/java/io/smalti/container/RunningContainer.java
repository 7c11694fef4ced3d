package io.smalti.container;

import java.util.Map;
import java.util.Optional;

/**
 * A started instance: its init's PID as seen from the node, the container's own IP address when it has one
 * (bridge mode), and endpoint name to port (the container port in bridge mode, an allocated host port in host
 * mode and for the process driver). Immutable.
 */
public record RunningContainer(String instance, long initPid, Optional<String> address, Map<String, Integer> endpoints) {
    public RunningContainer {
        endpoints = Map.copyOf(endpoints);
    }
}
