package io.smalti.container.net;

import io.smalti.container.ContainerException;
import io.smalti.container.Subnet;
import java.util.Set;

/**
 * Picks the lowest free container address of the bridge subnet (the bridge has host 1). The addresses in use
 * come from the instance records in the state directory, so allocation survives a restart of the node agent.
 * Callers serialize allocation.
 */
public final class AddressAllocator {
    private AddressAllocator() {
    }

    public static String allocate(Subnet subnet, Set<String> inUse) {
        for (int n = 2; n < subnet.size() - 1; n++) {
            String a = subnet.host(n);
            if (!inUse.contains(a)) {
                return a;
            }
        }
        throw new ContainerException("subnet " + subnet + " has no free address (" + inUse.size() + " in use)");
    }
}
