package io.smalti.bundle;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Strict reading of the small JSON documents of bundles: every error names the field path; a field that is not
 * read is an error (see {@link #done}). Not thread-safe (one instance per object being read); MAPPER is.
 */
final class Json {
    /** Duplicate keys and trailing content are errors: a document must mean one thing. */
    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final ObjectNode node;
    private final String path;
    private final Set<String> read = new HashSet<>();

    private Json(ObjectNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** Parses {@code bytes} as one JSON object; {@code what} names the document in errors. */
    static Json parse(byte[] bytes, String what) {
        JsonNode root;
        try {
            root = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new BundleException(what + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()));
        } catch (IOException e) {
            throw new BundleException(what + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new BundleException(what + ": must be a JSON object");
        }
        return new Json((ObjectNode) root, "");
    }

    String path(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    static BundleException error(String path, String message) {
        return new BundleException(path + ": " + message);
    }

    private JsonNode get(String field) {
        read.add(field);
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String field) {
        return get(field) != null;
    }

    String string(String field, String fallback) {
        JsonNode v = get(field);
        if (v == null) {
            if (fallback == null) {
                throw error(path(field), "required");
            }
            return fallback;
        }
        if (!v.isTextual()) {
            throw error(path(field), "must be a string");
        }
        return v.textValue();
    }

    long integer(String field, long fallback, long min, long max) {
        JsonNode v = get(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw error(path(field), "must be a whole number from " + min + " to " + max);
        }
        return v.longValue();
    }

    double decimal(String field, double fallback) {
        JsonNode v = get(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw error(path(field), "must be a number");
        }
        return v.doubleValue();
    }

    /** The object at {@code field}, or null when absent. */
    Json object(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw error(path(field), "must be an object");
        }
        return new Json((ObjectNode) v, path(field));
    }

    ObjectNode rawObject(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return MAPPER.createObjectNode();
        }
        if (!v.isObject()) {
            throw error(path(field), "must be an object");
        }
        return ((ObjectNode) v).deepCopy();
    }

    /** The elements of the array at {@code field}; an absent field is an empty list. */
    List<JsonNode> array(String field) {
        JsonNode v = get(field);
        if (v == null) {
            return List.of();
        }
        if (!v.isArray()) {
            throw error(path(field), "must be a list");
        }
        List<JsonNode> out = new ArrayList<>();
        v.forEach(out::add);
        return out;
    }

    /** The strings of the array at {@code field}. */
    List<String> strings(String field) {
        List<JsonNode> items = array(field);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (!items.get(i).isTextual()) {
                throw error(path(field) + "[" + i + "]", "must be a string");
            }
            out.add(items.get(i).textValue());
        }
        return out;
    }

    /** The i-th element of the array at {@code field} as an object. */
    Json element(String field, List<JsonNode> items, int i) {
        String p = path(field) + "[" + i + "]";
        if (!items.get(i).isObject()) {
            throw error(p, "must be an object");
        }
        return new Json((ObjectNode) items.get(i), p);
    }

    /** Fields of this object, for maps. */
    Iterable<java.util.Map.Entry<String, JsonNode>> fields() {
        node.fieldNames().forEachRemaining(read::add);
        return node::fields;
    }

    /** Refuses the fields that were not read: a misspelt field must not be silently ignored. */
    void done() {
        var names = node.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!read.contains(f)) {
                throw error(path(f), "unknown field");
            }
        }
    }
}
