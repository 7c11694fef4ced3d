package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalClusterTest {
    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aPortSomethingElseListensOnIsReportedBeforeAnyNodeStarts() throws Exception {
        try (ServerSocket other = new ServerSocket()) {
            other.bind(new InetSocketAddress("127.0.0.1", 0));
            int busy = other.getLocalPort();
            int api = freePort();
            LocalCluster.Plan plan = new LocalCluster.Plan(1, 64, 3, busy, api, freePort(), false);
            assertEquals(List.of("127.0.0.1:" + busy), plan.addressesInUse());
        }
        LocalCluster.Plan free = new LocalCluster.Plan(1, 64, 3, freePort(), freePort(), freePort(), false);
        assertEquals(List.of(), free.addressesInUse());
    }
}
