package io.smalti.harness;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
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
            "directory", "socket", "graceMillis", "maxFrame", "reconnect", "groups", "hubLeaseMillis");
    private static final Set<String> HUB_FIELDS = Set.of("host", "port", "certificate", "certificateFile", "token");
    private static final Set<String> RECONNECT_FIELDS = Set.of("initialMillis", "maxMillis");
    /**
     * Default hub lease: with the component's grace (5 s by default) the instance stops within 60 s of losing
     * its hub, the bound the cluster promises for a replaced instance.
     */
    static final long DEFAULT_HUB_LEASE_MILLIS = 30_000;
    /** sun_path is 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;

    private final String component;
    private final String hubHost;
    private final int hubPort;
    private final X509Certificate hubCertificate;
    /** The hub's node certificate when the configuration pins it after the CA's, else null. */
    private final X509Certificate hubNodeCertificate;
    private final String enrolToken;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path directory;
    private final Path socket;
    private final long graceMillis;
    private final int maxFrame;
    private final long reconnectInitialMillis;
    private final long reconnectMaxMillis;
    private final List<String> groups;
    private final long hubLeaseMillis;

    private HarnessConfig(String component, String hubHost, int hubPort, List<X509Certificate> hubCertificate,
            String enrolToken, List<String> command, Map<String, String> environment, Path directory, Path socket,
            long graceMillis, int maxFrame, long reconnectInitialMillis, long reconnectMaxMillis, List<String> groups,
            long hubLeaseMillis) {
        this.groups = List.copyOf(groups);
        this.hubLeaseMillis = hubLeaseMillis;
        this.component = component;
        this.hubHost = hubHost;
        this.hubPort = hubPort;
        this.hubCertificate = hubCertificate.get(0);
        this.hubNodeCertificate = hubCertificate.size() > 1 ? hubCertificate.get(1) : null;
        this.enrolToken = enrolToken;
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
        return of(Json.parse(json));
    }

    /** The component id of a parsed document when it is a valid one, else null (before the full validation). */
    static String componentId(Object document) {
        return document instanceof Map<?, ?> m && m.get("component") instanceof String id
                && COMPONENT_ID.matcher(id).matches() ? id : null;
    }

    /** Validates a document parsed by {@link Json#parse}; the exception names the first bad field. */
    static HarnessConfig of(Object document) throws ConfigException {
        Map<String, Object> root = object(document, "configuration", "a JSON object");
        checkKnown(root, "", TOP_FIELDS);

        String component = requiredText(root, "component", "component");
        if (!COMPONENT_ID.matcher(component).matches()) {
            throw new ConfigException("component", "expected 40 lowercase hex digits, got \"" + component + "\"");
        }

        Object hubValue = root.get("hub");
        if (hubValue == null || hubValue == Json.NULL) {
            throw new ConfigException("hub", "missing");
        }
        Map<String, Object> hub = object(hubValue, "hub", "an object");
        checkKnown(hub, "hub.", HUB_FIELDS);
        String host = requiredText(hub, "host", "hub.host");
        if (host.isBlank()) {
            throw new ConfigException("hub.host", "empty");
        }
        int port = (int) integer(hub, "port", "hub.port", -1, 1, 65535);
        if (port == -1) {
            throw new ConfigException("hub.port", "missing");
        }
        List<X509Certificate> certificate = certificates(hub);
        String token = optionalText(hub, "token", "hub.token");
        if (token == null || token.isBlank()) {
            throw new ConfigException("hub.token", "missing: the one-time token this harness redeems at its hub for its "
                    + "own certificate (the node puts it in the configuration it starts the harness with)");
        }

        Object commandValue = root.get("command");
        if (commandValue == null) {
            throw new ConfigException("command", "missing");
        }
        if (!(commandValue instanceof List<?> commandList) || commandList.isEmpty()) {
            throw new ConfigException("command", "expected a non-empty array of strings");
        }
        List<String> command = new ArrayList<>();
        for (int i = 0; i < commandList.size(); i++) {
            if (!(commandList.get(i) instanceof String element)) {
                throw new ConfigException("command[" + i + "]", "expected a string");
            }
            command.add(element);
        }
        if (command.get(0).isEmpty()) {
            throw new ConfigException("command[0]", "empty program name");
        }

        Map<String, String> environment = new LinkedHashMap<>();
        Object env = root.get("environment");
        if (env != null && env != Json.NULL) {
            for (Map.Entry<String, Object> e : object(env, "environment", "an object of strings").entrySet()) {
                if (!(e.getValue() instanceof String value)) {
                    throw new ConfigException("environment." + e.getKey(), "expected a string");
                }
                if (e.getKey().isEmpty() || e.getKey().indexOf('=') >= 0) {
                    throw new ConfigException("environment", "invalid variable name \"" + e.getKey() + "\"");
                }
                environment.put(e.getKey(), value);
            }
        }

        List<String> groups = new ArrayList<>();
        Object groupsValue = root.get("groups");
        if (groupsValue != null && groupsValue != Json.NULL) {
            if (!(groupsValue instanceof List<?> groupList)) {
                throw new ConfigException("groups", "expected an array of group names");
            }
            for (int i = 0; i < groupList.size(); i++) {
                if (!(groupList.get(i) instanceof String g) || g.isEmpty() || g.length() > 200
                        || g.chars().anyMatch(Character::isISOControl)) {
                    throw new ConfigException("groups[" + i + "]", "expected a group name of 1 to 200 characters, no control characters");
                }
                groups.add(g);
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
        long lease = integer(root, "hubLeaseMillis", "hubLeaseMillis", DEFAULT_HUB_LEASE_MILLIS, 100, 3_600_000);

        long initial = 100;
        long max = 5000;
        Object reconnectValue = root.get("reconnect");
        if (reconnectValue != null && reconnectValue != Json.NULL) {
            Map<String, Object> reconnect = object(reconnectValue, "reconnect", "an object");
            checkKnown(reconnect, "reconnect.", RECONNECT_FIELDS);
            initial = integer(reconnect, "initialMillis", "reconnect.initialMillis", initial, 1, 3_600_000);
            max = integer(reconnect, "maxMillis", "reconnect.maxMillis", Math.max(max, initial), 1, 3_600_000);
            if (max < initial) {
                throw new ConfigException("reconnect.maxMillis", "smaller than reconnect.initialMillis (" + initial + ")");
            }
        }
        return new HarnessConfig(component, host, port, certificate, token, command, environment, directory,
                socket.toAbsolutePath(), grace, maxFrame, initial, max, groups, lease);
    }

    /** The CA certificate, optionally followed by the hub's current node certificate (pinned). */
    private static List<X509Certificate> certificates(Map<String, Object> hub) throws ConfigException {
        String pem = optionalText(hub, "certificate", "hub.certificate");
        String file = optionalText(hub, "certificateFile", "hub.certificateFile");
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
            List<X509Certificate> certs = new ArrayList<>();
            for (java.security.cert.Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(bytes))) {
                certs.add((X509Certificate) c);
            }
            if (certs.isEmpty() || certs.size() > 2) {
                throw new ConfigException(field, "expected the CA certificate, optionally followed by the hub's, not "
                        + certs.size() + " certificates");
            }
            return certs;
        } catch (CertificateException | RuntimeException e) {
            throw new ConfigException(field, "not a PEM X.509 certificate (" + e.getMessage() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value, String field, String expected) throws ConfigException {
        if (!(value instanceof Map<?, ?>)) {
            throw new ConfigException(field, "expected " + expected);
        }
        return (Map<String, Object>) value;
    }

    private static void checkKnown(Map<String, Object> object, String prefix, Set<String> known) throws ConfigException {
        for (String name : object.keySet()) {
            if (!known.contains(name)) {
                throw new ConfigException(prefix + name, "unknown field (expected one of " + known + ")");
            }
        }
    }

    private static String requiredText(Map<String, Object> object, String name, String field) throws ConfigException {
        Object value = object.get(name);
        if (value == null || value == Json.NULL) {
            throw new ConfigException(field, "missing");
        }
        if (!(value instanceof String text)) {
            throw new ConfigException(field, "expected a string");
        }
        return text;
    }

    private static String optionalText(Map<String, Object> object, String name) throws ConfigException {
        return optionalText(object, name, name);
    }

    private static String optionalText(Map<String, Object> object, String name, String field) throws ConfigException {
        Object value = object.get(name);
        if (value == null || value == Json.NULL) {
            return null;
        }
        if (!(value instanceof String text)) {
            throw new ConfigException(field, "expected a string");
        }
        return text;
    }

    private static long integer(Map<String, Object> object, String name, String field, long absent, long min, long max)
            throws ConfigException {
        Object value = object.get(name);
        if (value == null || value == Json.NULL) {
            return absent;
        }
        if (!(value instanceof Long v)) {
            throw new ConfigException(field, "expected an integer");
        }
        if (v < min || v > max) {
            throw new ConfigException(field, v + " is out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    /**
     * The document as plain values (maps, lists, strings, longs, doubles, booleans, {@link #NULL}), read with
     * Jackson's streaming parser: data binding cost the harness ~90 ms and ~400 classes at every start for one
     * small document.
     */
    static final class Json {
        /** JSON null (a map cannot hold Java null as a value we could tell from "absent"). */
        static final Object NULL = new Object();
        private static final JsonFactory FACTORY = new JsonFactory();

        private Json() {
        }

        static Object parse(byte[] json) throws ConfigException {
            try (JsonParser p = FACTORY.createParser(json)) {
                JsonToken first = p.nextToken();
                if (first == null) {
                    throw new ConfigException("configuration", "empty (expected a JSON object)");
                }
                Object value = value(p, first, "");
                if (p.nextToken() != null) {
                    throw new ConfigException("configuration", "not valid JSON: more after the end of the document");
                }
                return value;
            } catch (JsonProcessingException e) {
                throw new ConfigException("configuration", "not valid JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw new ConfigException("configuration", "unreadable: " + e.getMessage());
            }
        }

        private static Object value(JsonParser p, JsonToken token, String path) throws IOException, ConfigException {
            switch (token) {
                case START_OBJECT -> {
                    Map<String, Object> map = new LinkedHashMap<>();
                    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                        String name = p.currentName();
                        String field = path.isEmpty() ? name : path + "." + name;
                        Object v = value(p, p.nextToken(), field);
                        if (map.put(name, v) != null) {
                            throw new ConfigException(field, "given twice");
                        }
                    }
                    return map;
                }
                case START_ARRAY -> {
                    List<Object> list = new ArrayList<>();
                    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                        list.add(value(p, t, path + "[" + list.size() + "]"));
                    }
                    return list;
                }
                case VALUE_STRING -> {
                    return p.getText();
                }
                case VALUE_NUMBER_INT -> {
                    // Beyond a long: kept as a number that is not an integer we accept ("expected an integer").
                    return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : p.getLongValue();
                }
                case VALUE_NUMBER_FLOAT -> {
                    return p.getDoubleValue();
                }
                case VALUE_TRUE, VALUE_FALSE -> {
                    return token == JsonToken.VALUE_TRUE;
                }
                case VALUE_NULL -> {
                    return NULL;
                }
                default -> throw new ConfigException(path.isEmpty() ? "configuration" : path, "unexpected " + token);
            }
        }
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

    /** The cluster CA's certificate: the hub's certificate must be a node certificate it issued. */
    public X509Certificate hubCertificate() {
        return hubCertificate;
    }

    /** The hub's node certificate as it was when the harness started (pinned: a byte compare), or null. */
    public X509Certificate hubNodeCertificate() {
        return hubNodeCertificate;
    }

    /** The one-time token redeemed (once) for this harness's own certificate. */
    public String enrolToken() {
        return enrolToken;
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

    /**
     * How long the harness may be without a hub session, once it has had one, before it stops the component and
     * exits ({@link Harness#EXIT_FENCED}): its node is lost and the instance replaced elsewhere.
     */
    public long hubLeaseMillis() {
        return hubLeaseMillis;
    }

    /** Groups the harness joins for its component as soon as it has a hub session (the bundle's declared groups). */
    public List<String> groups() {
        return groups;
    }
}
