package io.smalti.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SettingsTest {
    @Test
    void subnetArithmetic() {
        Subnet s = Subnet.parse("10.201.1.7/24");
        assertEquals("10.201.1.0/24", s.toString());
        assertEquals("10.201.1.1", s.gateway());
        assertEquals("10.201.1.2", s.host(2));
        assertEquals("10.201.1.255", s.broadcast());
        assertThrows(IllegalArgumentException.class, () -> s.host(255));
        assertThrows(IllegalArgumentException.class, () -> Subnet.parse("10.201.1.0"));
        assertThrows(IllegalArgumentException.class, () -> Subnet.parse("10.201.300.0/24"));
    }

    @Test
    void defaultsFitLinuxLimits() {
        assertEquals("smalti-a-very-l", ContainerSettings.defaultBridgeName("a-very-long-node-name"));
        assertEquals("smalti-n_1", ContainerSettings.defaultBridgeName("n_1"));
        assertEquals("smalti-n-1", ContainerSettings.defaultBridgeName("n 1"));
        ContainerSettings d = ContainerSettings.defaults("n1", Path.of("/tmp/x"));
        assertEquals(NetworkMode.BRIDGE, d.networkMode());
        assertEquals(ContainerSettings.DEFAULT_JVM_OPTIONS, d.jvmOptions());
        assertThrows(IllegalArgumentException.class,
                () -> d.withNetwork(NetworkMode.BRIDGE, "sixteen-chars-xx", "10.0.0.0/24"));
    }

    @Test
    void portVariables() {
        assertEquals("HTTP_ADMIN", HarnessLaunch.portVariable("http-admin"));
    }
}
