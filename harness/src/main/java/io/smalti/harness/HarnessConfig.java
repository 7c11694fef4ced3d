package io.smalti.harness;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The harness configuration (the JSON document read from the configuration file descriptor), validated.
 * Immutable and thread-safe. See {@link HarnessMain} for the format.
 */
public final class HarnessConfig {
    private static final Pattern COMPONENT_ID = Pattern.compile("[0-9a-f]{40}");
    private static final Set<String> TOP_FIELDS = Set.of("component", "hub", "command", "environment",
            "directory", "socket", "graceMillis", "maxFrame", "reconnect", "groups");
    private static final Set<String> HUB_FIELDS = Set.of("host", "port", "certificate", "certificateFile");
    private static final Set<String> RECONNECT_FIELDS = Set.of("initialMillis", "maxMillis");
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    private final String component;
    private final String hubHost;
    private final int hubPort;
    private final X509Certificate hubCertificate;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path directory;
    private final Path socket;
    private final long graceMillis;
    private final int maxFrame;
    private final long reconnectInitialMillis;
    private final long reconnectMaxMillis;
    private final List<String> groups;

    private HarnessConfig(String component, String hubHost, int hubPort, X509Certificate hubCertificate,
            List<String> command, Map<String, String> environment, Path directory, Path socket,
            long graceMillis, int maxFrame, long reconnectInitialMillis, long reconnectMaxMillis, List<String> groups) {
        this.groups = List.copyOf(groups);
        this.component = component;
        this.hubHost = hubHost;
        this.hubPort = hubPort;
        this.hubCertificate = hubCertificate;
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.directory = directory;
        this.socket = socket;
        this.graceMillis = graceMillis;
        this.maxFrame = maxFrame;
        this.reconnectInitialMillis = reconnectInitialMillis;
        this.reconnectMaxMillis = reconnectMaxMillis;
    }

    /** Parses and validates a configuration document; the exception names the first bad field. */
    public static HarnessConfig parse(byte[] json) throws ConfigException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException("configuration", "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException("configuration", "unreadable: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new ConfigException("configuration", "empty (expected a JSON object)");
        }
        if (!root.isObject()) {
            throw new ConfigException("configuration", "expected a JSON object");
        }
        checkKnown(root, "", TOP_FIELDS);

        String component = requiredText(root, "component", "component");
        if (!COMPONENT_ID.matcher(component).matches()) {
            throw new ConfigException("component", "expected 40 lowercase hex digits, got \"" + component + "\"");
        }

        JsonNode hub = root.get("hub");
        if (hub == null || !hub.isObject()) {
            throw new ConfigException("hub", hub == null ? "missing" : "expected an object");
        }
        checkKnown(hub, "hub.", HUB_FIELDS);
        String host = requiredText(hub, "host", "hub.host");
        if (host.isBlank()) {
            throw new ConfigException("hub.host", "empty");
        }
        int port = (int) integer(hub, "port", "hub.port", -1, 1, 65535);
        if (port == -1) {
            throw new ConfigException("hub.port", "missing");
        }
        X509Certificate certificate = certificate(hub);

        JsonNode commandNode = root.get("command");
        if (commandNode == null) {
            throw new ConfigException("command", "missing");
        }
        if (!commandNode.isArray() || commandNode.isEmpty()) {
            throw new ConfigException("command", "expected a non-empty array of strings");
        }
        List<String> command = new ArrayList<>();
        for (int i = 0; i < commandNode.size(); i++) {
            JsonNode element = commandNode.get(i);
            if (!element.isTextual()) {
                throw new ConfigException("command[" + i + "]", "expected a string");
            }
            command.add(element.asText());
        }
        if (command.get(0).isEmpty()) {
            throw new ConfigException("command[0]", "empty program name");
        }

        Map<String, String> environment = new LinkedHashMap<>();
        JsonNode env = root.get("environment");
        if (env != null && !env.isNull()) {
            if (!env.isObject()) {
                throw new ConfigException("environment", "expected an object of strings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = env.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    throw new ConfigException("environment." + e.getKey(), "expected a string");
                }
                if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0) {
                    throw new ConfigException("environment", "invalid variable name \"" + e.getKey() + "\"");
                }
                environment.put(e.getKey(), e.getValue().asText());
            }
        }

        List<String> groups = new ArrayList<>();
        JsonNode groupsNode = root.get("groups");
        if (groupsNode != null && !groupsNode.isNull()) {
            if (!groupsNode.isArray()) {
                throw new ConfigException("groups", "expected an array of group names");
            }
            for (int i = 0; i < groupsNode.size(); i++) {
                JsonNode g = groupsNode.get(i);
                if (!g.isTextual() || g.asText().isEmpty() || g.asText().length() > 200
                        || g.asText().chars().anyMatch(Character::isISOControl)) {
                    throw new ConfigException("groups[" + i + "]", "expected a group name of 1 to 200 characters, no control characters");
                }
                groups.add(g.asText());
            }
        }

        Path directory = null;
        String dir = optionalText(root, "directory");
        if (dir != null) {
            directory = Path.of(dir);
            if (!Files.isDirectory(directory)) {
                throw new ConfigException("directory", dir + " is not a directory");
            }
        }

        String socketText = optionalText(root, "socket");
        Path socket = socketText != null
                ? Path.of(socketText)
                : Path.of(System.getProperty("java.io.tmpdir"), "smalti-" + component + ".sock");
        if (socket.toString().isEmpty()) {
            throw new ConfigException("socket", "empty path");
        }
        if (socket.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new ConfigException("socket", "path " + socket + " is longer than " + MAX_SOCKET_PATH
                    + " bytes (the Unix-domain socket limit)");
        }
        if (socket.getParent() != null && !Files.isDirectory(socket.toAbsolutePath().getParent())) {
            throw new ConfigException("socket", "directory " + socket.toAbsolutePath().getParent() + " does not exist");
        }

        long grace = integer(root, "graceMillis", "graceMillis", 5000, 0, Integer.MAX_VALUE);
        int maxFrame = (int) integer(root, "maxFrame", "maxFrame", 1 << 20, 1024, 64 << 20);

        long initial = 100;
        long max = 5000;
        JsonNode reconnect = root.get("reconnect");
        if (reconnect != null && !reconnect.isNull()) {
            if (!reconnect.isObject()) {
                throw new ConfigException("reconnect", "expected an object");
            }
            checkKnown(reconnect, "reconnect.", RECONNECT_FIELDS);
            initial = integer(reconnect, "initialMillis", "reconnect.initialMillis", initial, 1, 3_600_000);
            max = integer(reconnect, "maxMillis", "reconnect.maxMillis", Math.max(max, initial), 1, 3_600_000);
            if (max < initial) {
                throw new ConfigException("reconnect.maxMillis", "smaller than reconnect.initialMillis (" + initial + ")");
            }
        }
        return new HarnessConfig(component, host, port, certificate, command, environment, directory,
                socket.toAbsolutePath(), grace, maxFrame, initial, max, groups);
    }

    private static X509Certificate certificate(JsonNode hub) throws ConfigException {
        String pem = optionalText(hub, "certificate");
        String file = optionalText(hub, "certificateFile");
        String field;
        byte[] bytes;
        if (pem != null && file != null) {
            throw new ConfigException("hub.certificate", "give either hub.certificate or hub.certificateFile, not both");
        } else if (pem != null) {
            field = "hub.certificate";
            bytes = pem.getBytes(StandardCharsets.US_ASCII);
        } else if (file != null) {
            field = "hub.certificateFile";
            try {
                bytes = Files.readAllBytes(Path.of(file));
            } catch (IOException e) {
                throw new ConfigException(field, "cannot read " + file + ": " + e);
            }
        } else {
            throw new ConfigException("hub.certificate", "missing (give hub.certificate or hub.certificateFile)");
        }
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(bytes));
        } catch (CertificateException | RuntimeException e) {
            throw new ConfigException(field, "not a PEM X.509 certificate (" + e.getMessage() + ")");
        }
    }

    private static void checkKnown(JsonNode object, String prefix, Set<String> known) throws ConfigException {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) {
                throw new ConfigException(prefix + name, "unknown field (expected one of " + known + ")");
            }
        }
    }

    private static String requiredText(JsonNode object, String name, String field) throws ConfigException {
        JsonNode value = object.get(name);
        if (value == null || value.isNull()) {
            throw new ConfigException(field, "missing");
        }
        if (!value.isTextual()) {
            throw new ConfigException(field, "expected a string");
        }
        return value.asText();
    }

    private static String optionalText(JsonNode object, String name) throws ConfigException {
        JsonNode value = object.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new ConfigException(name, "expected a string");
        }
        return value.asText();
    }

    private static long integer(JsonNode object, String name, String field, long absent, long min, long max)
            throws ConfigException {
        JsonNode value = object.get(name);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new ConfigException(field, "expected an integer");
        }
        long v = value.asLong();
        if (v < min || v > max) {
            throw new ConfigException(field, v + " is out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    /** The component id: 40 lowercase hex digits. */
    public String component() {
        return component;
    }

    /** The first 8 hex digits of the component id, for log lines. */
    public String shortId() {
        return component.substring(0, 8);
    }

    public String hubHost() {
        return hubHost;
    }

    public int hubPort() {
        return hubPort;
    }

    /** The hub's TLS certificate: the only one trusted for the hub connection. */
    public X509Certificate hubCertificate() {
        return hubCertificate;
    }

    public List<String> command() {
        return command;
    }

    public Map<String, String> environment() {
        return environment;
    }

    /** The component's working directory, or null for the harness's own. */
    public Path directory() {
        return directory;
    }

    /** The local channel's socket path (absolute). */
    public Path socket() {
        return socket;
    }

    public long graceMillis() {
        return graceMillis;
    }

    public int maxFrame() {
        return maxFrame;
    }

    public long reconnectInitialMillis() {
        return reconnectInitialMillis;
    }

    public long reconnectMaxMillis() {
        return reconnectMaxMillis;
    }

    /** Groups the harness joins for its component as soon as it has a hub session (the bundle's declared groups). */
    public List<String> groups() {
        return groups;
    }
}
