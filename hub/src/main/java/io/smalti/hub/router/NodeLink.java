package io.smalti.hub.router;

import io.smalti.protocol.hub.HubRelay;

/** How a router reaches the routers of other nodes. Thread-safe; {@link #send} never blocks. */
public interface NodeLink {

    /** Sends to the router of {@code node}; false when the node is not a cluster member. */
    boolean send(String node, HubRelay message);
}
