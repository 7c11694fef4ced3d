package io.smalti.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A bundle's manifest, {@code bundle.json}: what to run, with which resources, mounts, endpoints and groups.
 * Immutable and thread-safe; {@link #parse} validates every field and names the field path of each error.
 *
 * @param config configuration defaults (a copy is returned: the manifest stays immutable)
 */
public record Manifest(String name, String version, Run run, Resources resources, List<String> runtimes,
        List<Mount> mounts, List<Endpoint> endpoints, List<String> groups, ObjectNode config,
        Optional<Health> health, Optional<Adapter> adapter) {

    /** The file name of the manifest at the bundle root. */
    public static final String FILE = "bundle.json";
    /** The runtimes a node provides read-only to components. */
    public static final Set<String> RUNTIMES = Set.of("java");

    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,15})([KMGT]?)");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Set<String> SIGNALS = Set.of("TERM", "HUP", "INT", "QUIT", "USR1", "USR2", "KILL", "WINCH");

    public Manifest {
        runtimes = List.copyOf(runtimes);
        mounts = List.copyOf(mounts);
        endpoints = List.copyOf(endpoints);
        groups = List.copyOf(groups);
        config = config.deepCopy();
    }

    @Override
    public ObjectNode config() {
        return config.deepCopy();
    }

    /** What to start: {@code command} run in {@code workingDirectory} (relative to the bundle root). */
    public record Run(List<String> command, Map<String, String> environment, String workingDirectory) {
        public Run {
            command = List.copyOf(command);
            environment = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        }
    }

    /** Resource limits: memory and disk as written ("256M"), CPU in cores, the most processes. */
    public record Resources(String memory, double cpu, int pids, String disk) {
        public static final Resources DEFAULTS = new Resources("256M", 1.0, 256, "512M");

        public long memoryBytes() {
            return bytes(memory);
        }

        public long diskBytes() {
            return bytes(disk);
        }
    }

    /** A read-only mount of the node's {@code host} path at {@code path} in the container. */
    public record Mount(String host, String path) {
    }

    /** A port the component listens on. */
    public record Endpoint(String name, int port, String protocol) {
    }

    /** The health check: the operation to call, how often, how long to wait for its answer. */
    public record Health(String call, int intervalSeconds, int timeoutSeconds) {
    }

    /** How to drive a wrapped legacy server: config templates, signals, and the format of its logs. */
    public record Adapter(List<Template> templates, String stopSignal, String reloadSignal, String logFormat) {
        public Adapter {
            templates = List.copyOf(templates);
        }
    }

    /** A template file rendered from {@code source} to {@code target}, both relative to the bundle root. */
    public record Template(String source, String target) {
    }

    /** Parses and validates a manifest; throws {@link BundleException} naming the field path. */
    public static Manifest parse(byte[] json) {
        Json m = Json.parse(json, FILE);
        String name = m.string("name", null);
        if (!NAME.matcher(name).matches()) {
            throw Json.error("name", "must be 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit");
        }
        String version = m.string("version", null);
        if (version.isEmpty() || version.length() > 64 || hasControl(version)) {
            throw Json.error("version", "must be 1 to 64 characters, no control characters");
        }
        Json runJson = m.object("run");
        if (runJson == null) {
            throw Json.error("run", "required");
        }
        Run run = run(runJson);
        Resources resources = resources(m.object("resources"));
        List<String> runtimes = m.strings("runtimes");
        for (int i = 0; i < runtimes.size(); i++) {
            if (!RUNTIMES.contains(runtimes.get(i))) {
                throw Json.error("runtimes[" + i + "]", "unknown runtime '" + EntryNames.printable(runtimes.get(i))
                        + "' (nodes provide: " + String.join(", ", new java.util.TreeSet<>(RUNTIMES)) + ")");
            }
        }
        List<Mount> mounts = mounts(m);
        List<Endpoint> endpoints = endpoints(m);
        List<String> groups = m.strings("groups");
        for (int i = 0; i < groups.size(); i++) {
            String g = groups.get(i);
            if (g.isEmpty() || g.length() > 200 || hasControl(g)) {
                throw Json.error("groups[" + i + "]", "must be 1 to 200 characters, no control characters");
            }
        }
        ObjectNode config = m.rawObject("config");
        Json h = m.object("health");
        Optional<Health> health = h == null ? Optional.empty() : Optional.of(health(h));
        Json a = m.object("adapter");
        Optional<Adapter> adapter = a == null ? Optional.empty() : Optional.of(adapter(a));
        m.done();
        return new Manifest(name, version, run, resources, runtimes, mounts, endpoints, groups, config, health,
                adapter);
    }

    private static Run run(Json r) {
        List<String> command = r.strings("command");
        if (command.isEmpty()) {
            throw Json.error(r.path("command"), "required: a non-empty list of strings");
        }
        if (command.get(0).isEmpty()) {
            throw Json.error(r.path("command") + "[0]", "must not be empty");
        }
        Map<String, String> env = new LinkedHashMap<>();
        Json e = r.object("environment");
        if (e != null) {
            for (Map.Entry<String, JsonNode> f : e.fields()) {
                if (!ENV_NAME.matcher(f.getKey()).matches()) {
                    throw Json.error(e.path(f.getKey()), "not a valid environment variable name");
                }
                if (!f.getValue().isTextual()) {
                    throw Json.error(e.path(f.getKey()), "must be a string");
                }
                env.put(f.getKey(), f.getValue().textValue());
            }
        }
        String wd = r.string("workingDirectory", ".");
        relative(r.path("workingDirectory"), wd);
        r.done();
        return new Run(command, env, wd);
    }

    private static Resources resources(Json r) {
        if (r == null) {
            return Resources.DEFAULTS;
        }
        Resources d = Resources.DEFAULTS;
        String memory = r.string("memory", d.memory());
        size(r.path("memory"), memory);
        double cpu = r.decimal("cpu", d.cpu());
        if (!(cpu > 0) || cpu > 1024) {
            throw Json.error(r.path("cpu"), "must be a number of cores above 0, like 0.5");
        }
        int pids = (int) r.integer("pids", d.pids(), 1, 1 << 22);
        String disk = r.string("disk", d.disk());
        size(r.path("disk"), disk);
        r.done();
        return new Resources(memory, cpu, pids, disk);
    }

    private static List<Mount> mounts(Json m) {
        List<JsonNode> items = m.array("mounts");
        List<Mount> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Json j = m.element("mounts", items, i);
            String host = absolute(j.path("host"), j.string("host", null));
            String path = absolute(j.path("path"), j.string("path", null));
            if (path.equals("/")) {
                throw Json.error(j.path("path"), "cannot mount over the container's root");
            }
            j.done();
            out.add(new Mount(host, path));
        }
        return out;
    }

    private static List<Endpoint> endpoints(Json m) {
        List<JsonNode> items = m.array("endpoints");
        List<Endpoint> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            Json j = m.element("endpoints", items, i);
            String name = j.string("name", null);
            if (!NAME.matcher(name).matches()) {
                throw Json.error(j.path("name"), "must be 1 to 63 of a-z, 0-9 and '-'");
            }
            if (!names.add(name)) {
                throw Json.error(j.path("name"), "duplicate endpoint name '" + name + "'");
            }
            int port = (int) j.integer("port", -1, 1, 65535);
            if (port == -1) {
                throw Json.error(j.path("port"), "required");
            }
            String protocol = j.string("protocol", "tcp");
            if (!protocol.equals("tcp") && !protocol.equals("udp")) {
                throw Json.error(j.path("protocol"), "must be tcp or udp");
            }
            j.done();
            out.add(new Endpoint(name, port, protocol));
        }
        return out;
    }

    private static Health health(Json h) {
        String call = h.string("call", null);
        if (call.isEmpty() || hasControl(call)) {
            throw Json.error(h.path("call"), "must be an operation name");
        }
        int interval = (int) h.integer("intervalSeconds", 10, 1, 86_400);
        int timeout = (int) h.integer("timeoutSeconds", 2, 1, 86_400);
        h.done();
        return new Health(call, interval, timeout);
    }

    private static Adapter adapter(Json a) {
        List<JsonNode> items = a.array("templates");
        List<Template> templates = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Json t = a.element("templates", items, i);
            String source = relative(t.path("source"), t.string("source", null));
            String target = relative(t.path("target"), t.string("target", null));
            t.done();
            templates.add(new Template(source, target));
        }
        String stop = signal(a.path("stopSignal"), a.string("stopSignal", "TERM"));
        String reload = signal(a.path("reloadSignal"), a.string("reloadSignal", "HUP"));
        String logFormat = a.string("logFormat", "lines");
        if (!logFormat.equals("lines") && !logFormat.equals("json")) {
            throw Json.error(a.path("logFormat"), "must be lines or json");
        }
        a.done();
        return new Adapter(templates, stop, reload, logFormat);
    }

    private static String signal(String path, String s) {
        if (!SIGNALS.contains(s)) {
            throw Json.error(path, "must be one of " + String.join(", ", new java.util.TreeSet<>(SIGNALS)));
        }
        return s;
    }

    /** A path inside the bundle: relative, no {@code ..}, as the archive names it. */
    private static String relative(String path, String value) {
        if (value.isEmpty() || value.startsWith("/") || value.indexOf('\0') >= 0 || hasControl(value)) {
            throw Json.error(path, "must be a relative path inside the bundle");
        }
        for (String c : value.split("/")) {
            if (c.equals("..")) {
                throw Json.error(path, "must be a relative path inside the bundle, without '..'");
            }
        }
        return value;
    }

    /** An absolute, normalized path: {@code /a/b}, not {@code /a/../b}, {@code /a/./b} or {@code /a/}. */
    private static String absolute(String path, String value) {
        if (!value.startsWith("/") || value.indexOf('\0') >= 0 || hasControl(value)
                || !Path.of(value).normalize().toString().equals(value) || value.contains("/../")
                || value.endsWith("/..")) {
            throw Json.error(path, "must be an absolute, normalized path like /opt/data");
        }
        return value;
    }

    private static void size(String path, String value) {
        if (!SIZE.matcher(value).matches() || bytes(value) <= 0) {
            throw Json.error(path, "must be like 256M (a whole number with K, M, G or T)");
        }
    }

    /** "256M" as bytes; the units are binary (1K = 1024). */
    static long bytes(String size) {
        var m = SIZE.matcher(size);
        if (!m.matches()) {
            throw new BundleException("not a size: " + size);
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw new BundleException("size too large: " + size);
        }
        return n << shift;
    }

    private static boolean hasControl(String s) {
        return s.chars().anyMatch(Character::isISOControl);
    }

    /** The manifest as JSON, defaults written out; {@code parse(toJson())} equals this manifest. */
    public byte[] toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("name", name).put("version", version);
        ObjectNode r = o.putObject("run");
        ArrayNode cmd = r.putArray("command");
        run.command().forEach(cmd::add);
        ObjectNode env = r.putObject("environment");
        run.environment().forEach(env::put);
        r.put("workingDirectory", run.workingDirectory());
        o.putObject("resources").put("memory", resources.memory()).put("cpu", resources.cpu())
                .put("pids", resources.pids()).put("disk", resources.disk());
        ArrayNode rt = o.putArray("runtimes");
        runtimes.forEach(rt::add);
        ArrayNode ms = o.putArray("mounts");
        mounts.forEach(x -> ms.addObject().put("host", x.host()).put("path", x.path()));
        ArrayNode es = o.putArray("endpoints");
        endpoints.forEach(x -> es.addObject().put("name", x.name()).put("port", x.port()).put("protocol", x.protocol()));
        ArrayNode gs = o.putArray("groups");
        groups.forEach(gs::add);
        o.set("config", config.deepCopy());
        health.ifPresent(h -> o.putObject("health").put("call", h.call()).put("intervalSeconds", h.intervalSeconds())
                .put("timeoutSeconds", h.timeoutSeconds()));
        adapter.ifPresent(a -> {
            ObjectNode ad = o.putObject("adapter");
            ArrayNode ts = ad.putArray("templates");
            a.templates().forEach(t -> ts.addObject().put("source", t.source()).put("target", t.target()));
            ad.put("stopSignal", a.stopSignal()).put("reloadSignal", a.reloadSignal()).put("logFormat", a.logFormat());
        });
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new BundleException("cannot write manifest: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "Manifest[" + name + " " + version + "]";
    }
}
