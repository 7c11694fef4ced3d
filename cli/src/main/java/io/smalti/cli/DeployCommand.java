package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti deploy BUNDLE}: pushes a signed bundle, registers its type, and waits for its instances. */
@Command(name = "deploy", mixinStandardHelpOptions = true,
        description = {"Deploys a component: pushes the signed bundle BUNDLE (a .tar.gz, with its signature .sig next "
                + "to it, as smalti bundle build writes them), registers its type with --count desired instances, "
                + "then waits until that many instances are available and lists them.",
                "Deploying a bundle again is harmless: it is stored and registered once; --count then sets the "
                        + "desired number of instances."},
        footer = {"", "Exit status 1 when the push or the registration is refused, when an instance fails (with its "
                + "reason), or when the instances are not all available within --timeout (with the states seen)."})
final class DeployCommand implements Callable<Integer> {
    /** How often the instances are polled while waiting. */
    static final Duration POLL = Duration.ofMillis(500);
    /** The longest any one request other than the push may take. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** The least time the push may take, whatever --timeout says (a bundle can be large). */
    static final Duration MIN_PUSH_TIMEOUT = Duration.ofSeconds(30);
    /** States in the order of an instance's life, to list counts in a stable order. */
    static final List<String> STATES = List.of("preparing", "initializing", "available", "unavailable", "stopping",
            "destroying", "destroyed", "failed");

    // The options of Smalti.NodeOptions, except that --timeout here bounds the whole wait (default 120s), not each
    // request: picocli does not allow a mixin's option to be declared again with another meaning.
    @Option(names = "--node", paramLabel = "URL", description = "REST API base URL of the node to ask.")
    String node;

    @Option(names = "--json", description = "Print JSON at the end: {\"bundle\", \"type\", \"instances\"} "
            + "(progress goes to stderr).")
    boolean json;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Local cluster state directory.")
    Path stateDir;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s",
            converter = Smalti.DurationConverter.class,
            description = "How long to wait for the instances to be available: seconds, or with a unit "
                    + "(500ms, 5s, 2m); default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Option(names = "--count", paramLabel = "N", description = "Desired number of instances, 0 to " + Components.MAX_COUNT
            + " (default: 1 for a new type; unchanged for a type already registered).")
    Integer count;

    @Option(names = "--no-wait", description = "Return once the type is registered, without waiting for instances.")
    boolean noWait;

    @Parameters(paramLabel = "BUNDLE", description = "The bundle archive, NAME-VERSION.tar.gz, with NAME-VERSION.sig.")
    Path bundle;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (count != null) {
            Components.checkCount(spec, "--count", count, 0);
        }
        Path signature = signatureOf(spec, bundle);
        if (!Files.isRegularFile(bundle)) {
            throw new Smalti.Failure("no bundle file " + bundle);
        }
        if (!Files.isRegularFile(signature)) {
            throw new Smalti.Failure("no signature " + signature + " next to " + bundle
                    + ": build and sign the bundle with smalti bundle build (it writes both)");
        }
        long archiveSize;
        byte[] sig;
        try {
            archiveSize = Files.size(bundle); // the archive itself is streamed as it is pushed
            sig = Files.readAllBytes(signature);
        } catch (IOException e) {
            throw new Smalti.Failure("cannot read " + bundle + " or its signature: " + e.getMessage());
        }

        Smalti.NodeOptions options = new Smalti.NodeOptions();
        options.node = node;
        options.stateDir = stateDir;
        options.json = json;
        options.timeout = min(timeout, REQUEST_TIMEOUT);
        String url = options.resolveNode();
        ApiClient api = options.client();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter progress = json ? spec.commandLine().getErr() : out;

        // 1. Push.
        progress.printf("pushing bundle %s (%s)... ", bundle.getFileName(), Components.bytes(archiveSize));
        progress.flush();
        JsonNode pushed;
        try {
            pushed = options.client(max(timeout, MIN_PUSH_TIMEOUT)).postFile(url, "/v1/bundles", bundle,
                    Map.of("Smalti-Signature", Base64.getEncoder().encodeToString(sig)));
        } catch (ApiClient.ApiException e) {
            progress.println("failed");
            throw new Smalti.Failure(e.getMessage());
        }
        String digest = pushed.path("digest").asText();
        progress.printf("%s stored as %s%n", Components.nameVersion(pushed), Components.shortDigest(digest));

        // 2. Register. If the type exists already, its instances that failed or were destroyed before this deploy
        // are not this deploy's business: note them first.
        Set<String> earlier = new HashSet<>();
        String knownId = null;
        for (JsonNode t : Hub.request(api, options, "GET", "/v1/types", null, null).path("types")) {
            if (digest.equals(t.path("bundle").asText())) {
                knownId = t.path("id").asText();
            }
        }
        if (knownId != null) {
            for (JsonNode i : instances(api, options, knownId)) {
                String state = i.path("state").asText();
                if (state.equals("failed") || state.equals("destroyed")) {
                    earlier.add(i.path("id").asText());
                }
            }
        }
        progress.printf("registering type %s... ", Components.nameVersion(pushed));
        progress.flush();
        ObjectNode request = ApiClient.JSON.createObjectNode().put("bundle", digest);
        if (count != null) {
            request.put("count", count);
        }
        JsonNode type;
        try {
            type = api.send(url, "POST", "/v1/types", request.toString(), "application/json");
        } catch (ApiClient.ApiException e) {
            progress.println("failed");
            throw new Smalti.Failure(e.getMessage());
        }
        String typeId = type.path("id").asText();
        long want = type.path("desired").isNumber() ? type.path("desired").asLong() : count == null ? 1 : count;
        progress.printf("%s%s (desired %d)%n", knownId != null ? "already registered as " : "", typeId, want);

        ObjectNode result = ApiClient.JSON.createObjectNode();
        result.set("bundle", pushed);
        result.set("type", type);
        if (noWait) {
            if (json) {
                Smalti.printJson(out, result);
            }
            return 0;
        }

        // 3. Wait.
        List<JsonNode> current = waitFor(api, options, type, want, earlier, progress);
        if (json) {
            ArrayNode list = result.putArray("instances");
            current.forEach(list::add);
            Smalti.printJson(out, result);
        } else {
            PsCommand.print(current, out, Instant.now(), false);
            out.printf("%s: %s available%n", Components.nameVersion(type), Components.plural(want, "instance"));
        }
        return 0;
    }

    /** Polls the type's instances until {@code want} are available; fails on a failed instance or the timeout. */
    private List<JsonNode> waitFor(ApiClient api, Smalti.NodeOptions options, JsonNode type, long want,
            Set<String> earlier, PrintWriter progress) {
        String typeId = type.path("id").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<String> seen = new LinkedHashSet<>();
        String last = null;
        while (true) {
            List<JsonNode> current = new ArrayList<>();
            Map<String, Integer> states = new LinkedHashMap<>();
            for (JsonNode i : instances(api, options, typeId)) {
                String state = i.path("state").asText();
                if (earlier.contains(i.path("id").asText()) || state.equals("destroyed")) {
                    continue;
                }
                current.add(i);
                states.merge(state, 1, Integer::sum);
                seen.add(state);
                if (state.equals("failed")) {
                    throw new Smalti.Failure("instance " + i.path("id").asText() + " of " + Components.nameVersion(type)
                            + " failed" + (i.path("node").isTextual() ? " on node " + i.path("node").asText() : "")
                            + ": " + reason(api, options, i.path("id").asText()));
                }
            }
            int available = states.getOrDefault("available", 0);
            String line = "waiting for " + Components.plural(want, "instance") + ": " + available + "/" + want
                    + " available" + others(states);
            if (!line.equals(last)) {
                progress.println(line);
                last = line;
            }
            if (available >= want) {
                return current;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new Smalti.Failure("timed out after " + Components.human(timeout) + " waiting for "
                        + Components.plural(want, "available instance") + " of " + Components.nameVersion(type)
                        + ": " + (current.isEmpty() ? "no instance was started" : "now " + counts(states))
                        + (seen.isEmpty() ? "" : "; states seen: " + String.join(", ", seen)));
            }
            try {
                Thread.sleep(Math.min(POLL.toMillis(), Math.max(1, left / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Smalti.Failure("interrupted");
            }
        }
    }

    private static JsonNode instances(ApiClient api, Smalti.NodeOptions options, String typeId) {
        return Hub.request(api, options, "GET", "/v1/instances?type=" + Hub.segment(typeId), null, null)
                .path("instances");
    }

    /** The last reason in a failed instance's history, or what is known when there is none. */
    static String reason(ApiClient api, Smalti.NodeOptions options, String instanceId) {
        JsonNode detail;
        try {
            detail = api.get(options.resolveNode(), "/v1/instances/" + Hub.segment(instanceId));
        } catch (ApiClient.ApiException e) {
            return "(its history could not be read: " + e.getMessage() + ")";
        }
        String reason = null;
        for (JsonNode h : detail.path("history")) {
            String r = Components.text(h.path("reason"));
            if (r != null && !r.isBlank()) {
                reason = r;
            }
        }
        return reason == null ? "no reason given" : Hub.oneLine(reason);
    }

    /** " (2 initializing, 1 preparing)": the states other than available, or "" when there are none. */
    private static String others(Map<String, Integer> states) {
        Map<String, Integer> rest = new LinkedHashMap<>(states);
        rest.remove("available");
        return rest.isEmpty() ? "" : " (" + counts(rest) + ")";
    }

    /** "1 preparing, 2 initializing", in lifecycle order. */
    static String counts(Map<String, Integer> states) {
        List<String> parts = new ArrayList<>();
        for (String s : STATES) {
            if (states.containsKey(s)) {
                parts.add(states.get(s) + " " + s);
            }
        }
        states.forEach((s, n) -> {
            if (!STATES.contains(s)) {
                parts.add(n + " " + Hub.oneLine(s));
            }
        });
        return String.join(", ", parts);
    }

    /** The signature next to a bundle: NAME.tar.gz (or NAME.tgz) → NAME.sig. */
    static Path signatureOf(CommandSpec spec, Path bundle) {
        String name = bundle.getFileName() == null ? "" : bundle.getFileName().toString();
        String base = name.endsWith(".tar.gz") ? name.substring(0, name.length() - ".tar.gz".length())
                : name.endsWith(".tgz") ? name.substring(0, name.length() - ".tgz".length()) : null;
        if (base == null || base.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "BUNDLE must be a .tar.gz archive made by "
                    + "smalti bundle build, not '" + bundle + "'");
        }
        return bundle.resolveSibling(base + ".sig");
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
