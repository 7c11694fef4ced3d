package io.smalti.component.records;

/**
 * Record keys of the components service. A type's and an instance's records are keyed {@code <kind>/<id>}
 * so they lie on the id's own vnode; bundles, nodes and indexes are hashed by name.
 */
public final class ComponentKeys {
    private ComponentKeys() {}

    static final String BUNDLE = "bundle";
    static final String CHUNK = "chunk";
    static final String TYPE = "type";
    static final String INSTANCE = "instance";
    static final String STATUS = "status";
    static final String NODE = "node";
    static final String DRAIN = "drain";
    static final String STOPPING = "stopping";
    static final String INSTANCES = "instances";
    static final String PLACED = "placed";
    static final String INDEX = "index";

    /** Every registered type id. */
    public static final String TYPE_INDEX = "index/types";
    /** Every stored bundle digest. */
    public static final String BUNDLE_INDEX = "index/bundles";

    public static String bundle(String digest) {
        return BUNDLE + "/" + digest;
    }

    public static String chunk(String digest, int index) {
        return CHUNK + "/" + digest + "/" + index;
    }

    public static String type(String id) {
        return TYPE + "/" + id;
    }

    /** The instances of a type (an OR-set of instance ids). */
    public static String instances(String type) {
        return INSTANCES + "/" + type;
    }

    /** The instances placed on a node (an OR-set of instance ids): what that node runs. */
    public static String placed(String node) {
        return PLACED + "/" + node;
    }

    public static String placement(String instance) {
        return INSTANCE + "/" + instance;
    }

    public static String status(String instance) {
        return STATUS + "/" + instance;
    }

    public static String node(String name) {
        return NODE + "/" + name;
    }

    public static String drain(String name) {
        return DRAIN + "/" + name;
    }

    /** A node's planned stop ({@code StopMark}). */
    public static String stopping(String name) {
        return STOPPING + "/" + name;
    }

    /**
     * Whether another node's instance agent or scaler acts on a change of this record: placements, instance
     * states, types and their instance sets, what is placed on a node, drain and stop marks, the type index.
     * Not bundles (read when needed) nor node status (rewritten every few seconds with fresh metrics).
     */
    public static boolean actedOn(String key) {
        return switch (kind(key)) {
            case INSTANCE, STATUS, TYPE, INSTANCES, PLACED, DRAIN, STOPPING -> true;
            case INDEX -> key.equals(TYPE_INDEX);
            default -> false;
        };
    }

    /** Whether an instance agent acts on a change of this record: a placement, or what is placed on a node. */
    public static boolean placing(String key) {
        String kind = kind(key);
        return kind.equals(INSTANCE) || kind.equals(PLACED);
    }

    /** The kind of a key: the text before its first '/'. */
    static String kind(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }
}
