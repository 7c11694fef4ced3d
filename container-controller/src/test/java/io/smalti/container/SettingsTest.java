package io.smalti.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void aDistributionHarnessRunsOnItsOwnJars(@TempDir Path lib) throws Exception {
        // The harness jar lists its dependencies (written by its build); they sit beside it.
        Path harness = lib.resolve("smalti-harness-1.jar");
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(harness))) {
            jar.putNextEntry(new JarEntry(ContainerSettings.HARNESS_CLASSPATH_RESOURCE));
            jar.write("lib/netty-a.jar:lib/logback-b.jar\n".getBytes(StandardCharsets.UTF_8));
        }
        Files.createFile(lib.resolve("netty-a.jar"));
        Files.createFile(lib.resolve("pekko-unrelated.jar"));
        URL listing = new URL("jar:" + harness.toUri() + "!/" + ContainerSettings.HARNESS_CLASSPATH_RESOURCE);
        // A listed jar is missing: no partial class path (the caller keeps its whole one).
        assertEquals(Optional.empty(), ContainerSettings.distributionClasspath(listing));
        Files.createFile(lib.resolve("logback-b.jar"));
        assertEquals(Optional.of(List.of(harness, lib.resolve("netty-a.jar"), lib.resolve("logback-b.jar"))),
                ContainerSettings.distributionClasspath(listing));
        // A build tree (classes directory, not a jar): no listing to go by.
        assertEquals(Optional.empty(), ContainerSettings.distributionClasspath(lib.toUri().toURL()));
        assertEquals(Optional.empty(), ContainerSettings.distributionClasspath(null));
    }

    @Test
    void portVariables() {
        assertEquals("HTTP_ADMIN", HarnessLaunch.portVariable("http-admin"));
    }
}
