package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Helpers shared by the commands that deploy and run components (deploy, ps, destroy, scale, types, bundles):
 * short ids, type names, and the human forms of sizes and durations.
 */
final class Components {
    private static final Pattern FULL_ID = Pattern.compile("[0-9a-fA-F]{40}");

    /** Hex digits of an id or digest shown in tables. */
    static final int SHORT = 12;

    /**
     * The most instances a type may want: the API's bound ({@code ComponentController.MAX_COUNT}, which the CLI
     * does not depend on; a test in dist checks that the two agree), checked here so that nothing is sent.
     */
    static final int MAX_COUNT = 1000;

    private Components() {
    }

    /** True for the text form of a platform id: 40 hex digits. */
    static boolean isFullId(String s) {
        return s != null && FULL_ID.matcher(s).matches();
    }

    /**
     * The short form of a platform id (type, instance) shown in tables: its <em>last</em> 12 hex digits. The first
     * digits of an id are its ring prefix, category and sub-element (docs/ids.md), shared by all the instances of a
     * type on one vnode; the last ones are random. Anything that is not an id is shown whole.
     */
    static String shortId(String id) {
        if (id == null) {
            return null;
        }
        return isFullId(id) ? id.substring(id.length() - SHORT) : Hub.oneLine(id);
    }

    /** The short form of a bundle digest: the first 12 digits, without an {@code algorithm:} prefix. */
    static String shortDigest(String digest) {
        if (digest == null) {
            return null;
        }
        String d = digest.substring(digest.indexOf(':') + 1);
        return Hub.oneLine(d.length() > SHORT ? d.substring(0, SHORT) : d);
    }

    /** A text field of a JSON object, or null when it is absent or null. */
    static String text(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n.asText();
    }

    /** "echo 1.0", from an object with {@code name} and {@code version}. */
    static String nameVersion(JsonNode o) {
        String name = text(o.path("name"));
        String version = text(o.path("version"));
        return Hub.oneLine((name == null ? "?" : name) + (version == null ? "" : " " + version));
    }

    /**
     * The id of a type given by id or name: 40 hex digits are taken as an id as they are, anything else is looked
     * up by name in {@code GET /v1/types}. An unknown name, or one that names several types (versions), fails with
     * the ids to choose from.
     */
    static String resolveType(ApiClient api, Smalti.NodeOptions options, String idOrName) {
        if (isFullId(idOrName)) {
            return idOrName.toLowerCase(Locale.ROOT);
        }
        JsonNode types = Hub.request(api, options, "GET", "/v1/types", null, null).path("types");
        List<JsonNode> named = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (JsonNode t : types) {
            String name = t.path("name").asText();
            if (name.equals(idOrName)) {
                named.add(t);
            }
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        if (named.isEmpty()) {
            throw new Smalti.Failure("no type named '" + Hub.oneLine(idOrName) + "'" + (names.isEmpty()
                    ? " (no type is registered: smalti deploy registers one)"
                    : " (types: " + Hub.oneLine(String.join(", ", names)) + ")"));
        }
        if (named.size() > 1) {
            List<String> choices = new ArrayList<>();
            for (JsonNode t : named) {
                choices.add(t.path("id").asText() + " (" + nameVersion(t) + ")");
            }
            throw new Smalti.Failure("'" + Hub.oneLine(idOrName) + "' names " + named.size() + " types, give its id: "
                    + String.join(", ", choices));
        }
        return named.get(0).path("id").asText();
    }

    /**
     * Refuses (usage error, nothing sent) a count the API would refuse, in the API's words: {@code option} names it
     * as the user wrote it ({@code N}, {@code --count}); {@code min} is 0 for a desired count, 1 to add instances.
     */
    static void checkCount(CommandSpec spec, String option, long count, int min) {
        if (count < min || count > MAX_COUNT) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " must be a whole number from " + min
                    + " to " + MAX_COUNT + ", got " + count);
        }
    }

    /** A timestamp of the API (ISO-8601, or milliseconds since the epoch), or null when absent or unreadable. */
    static Instant instant(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isNumber()) {
            return Instant.ofEpochMilli(n.asLong());
        }
        try {
            return Instant.parse(n.asText());
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(n.asText()).toInstant();
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    /** A duration as a person reads it: 450ms, 45s, 3m12s, 2h05m, 3d04h (ASCII only). */
    static String human(Duration d) {
        if (d.isNegative()) {
            d = Duration.ZERO;
        }
        long s = d.getSeconds();
        if (s < 1 && d.toMillis() > 0) {
            return d.toMillis() + "ms";
        }
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86_400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, s % 86_400 / 3600);
    }

    /** A size in bytes: 512 B, 3.4 KiB, 1.9 MiB, 2.0 GiB. */
    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** Memory in MiB with one decimal, or null (shown "-") when the API does not know it. */
    static String mebibytes(JsonNode n) {
        if (n == null || !n.isNumber()) {
            return null;
        }
        return String.format(Locale.ROOT, "%.1f MiB", n.asDouble() / (1024 * 1024));
    }

    /** "1 instance", "3 instances". */
    static String plural(long n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }
}
