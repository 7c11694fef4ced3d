package io.smalti.container.net;

import io.smalti.container.ContainerException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Picks free host ports for endpoints in host network mode and under the process driver: the kernel's choice of
 * an ephemeral port, skipping ports already handed to another instance. Callers serialize allocation (the
 * driver's lock) and pass the ports in use; nothing is held here, so a restart loses nothing.
 */
public final class PortAllocator {
    private PortAllocator() {
    }

    public static int allocate(Set<Integer> inUse) {
        Set<Integer> seen = new HashSet<>();
        for (int attempt = 0; attempt < 64; attempt++) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress(0));
                int port = s.getLocalPort();
                if (!inUse.contains(port) && seen.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new ContainerException("cannot find a free host port: " + e.getMessage(), e);
            }
        }
        throw new ContainerException("cannot find a free host port: 64 attempts gave ports already in use");
    }
}
