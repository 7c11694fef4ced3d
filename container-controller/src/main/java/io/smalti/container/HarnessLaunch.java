package io.smalti.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.bundle.Manifest;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Builds what both drivers give the harness: its command line and its JSON configuration (which goes through a
 * pipe, never argv or the environment). Stateless and thread-safe.
 */
public final class HarnessLaunch {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * How long a harness may be without its hub, once connected, before it stops its component and exits
     * ({@code smalti.components.hub-lease}): with the default grace, a lost node's instances stop within 60 s.
     */
    public static final Duration DEFAULT_HUB_LEASE = Duration.ofSeconds(30);
    /** Where the harness finds a shell and the usual tools, before any runtime's bin directory. */
    public static final String BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

    private HarnessLaunch() {
    }

    /** {@code java <options> -cp <classpath> io.smalti.harness.HarnessMain}, or the settings' override. */
    public static List<String> command(ContainerSettings settings) {
        if (!settings.launcherOverride().isEmpty()) {
            return settings.launcherOverride();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(settings.javaExecutable().toString());
        cmd.addAll(settings.jvmOptions());
        cmd.add("-cp");
        cmd.add(settings.harnessClasspath().stream().map(Path::toString)
                .collect(Collectors.joining(File.pathSeparator)));
        cmd.add(ContainerSettings.HARNESS_MAIN);
        return cmd;
    }

    /**
     * The component's environment: the manifest's {@code run.environment}, then the spec's, then
     * {@code SMALTI_PORT_<NAME>} per endpoint and a PATH with {@code <java home>/bin} first when the manifest asks
     * for the java runtime (a PATH given by the manifest or spec wins).
     */
    public static Map<String, String> environment(ContainerSpec spec, ContainerSettings settings,
            Map<String, Integer> endpoints) {
        Manifest m = spec.manifest();
        Map<String, String> env = new LinkedHashMap<>();
        String path = BASE_PATH;
        if (m.runtimes().contains("java")) {
            path = settings.javaHome().resolve("bin") + ":" + path;
        }
        env.put("PATH", path);
        endpoints.forEach((name, port) -> env.put("SMALTI_PORT_" + portVariable(name), Integer.toString(port)));
        env.putAll(m.run().environment());
        env.putAll(spec.environment());
        return env;
    }

    /** Endpoint "http-admin" → "HTTP_ADMIN". */
    public static String portVariable(String endpoint) {
        return endpoint.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** The harness configuration document with the default hub lease. */
    public static byte[] config(ContainerSpec spec, String hubHost, Map<String, String> environment, String directory,
            String socket) {
        return config(spec, hubHost, environment, directory, socket, DEFAULT_HUB_LEASE);
    }

    /** The harness configuration document (see the harness README and {@code HarnessMain}). */
    public static byte[] config(ContainerSpec spec, String hubHost, Map<String, String> environment, String directory,
            String socket, Duration hubLease) {
        ObjectNode root = JSON.createObjectNode();
        root.put("component", spec.instance());
        root.putObject("hub").put("host", hubHost).put("port", spec.hubPort())
                .put("certificate", spec.hubCertificatePem()).put("token", spec.enrolToken());
        var command = root.putArray("command");
        spec.manifest().run().command().forEach(command::add);
        ObjectNode env = root.putObject("environment");
        environment.forEach(env::put);
        root.put("directory", directory);
        root.put("socket", socket);
        root.put("graceMillis", spec.grace().toMillis());
        root.put("hubLeaseMillis", hubLease.toMillis());
        // The bundle's declared groups: the harness joins them for the component once it reaches the hub.
        if (!spec.manifest().groups().isEmpty()) {
            var groups = root.putArray("groups");
            spec.manifest().groups().forEach(groups::add);
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ContainerException("instance " + spec.instance() + ": cannot write the harness configuration: "
                    + e.getOriginalMessage(), e);
        }
    }

    /** The working directory under a bundle root as the harness will see it ("." is the root itself). */
    public static String directory(String bundleRootAsSeen, Manifest manifest) {
        String wd = manifest.run().workingDirectory();
        return wd == null || wd.equals(".") ? bundleRootAsSeen : Path.of(bundleRootAsSeen, wd).normalize().toString();
    }
}
