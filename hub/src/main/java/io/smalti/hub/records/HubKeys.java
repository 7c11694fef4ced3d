package io.smalti.hub.records;

import io.smalti.ring.id.Id;

/**
 * Record keys of the hub service. A component's records are keyed {@code <kind>/<id>} so they lie on the
 * component's own vnode (see {@code KeySpace}); a group's records are keyed by the group name.
 */
public final class HubKeys {
    private HubKeys() {}

    static final String MEMBERS = "members";
    static final String LOCATION = "location";
    static final String WATCHERS = "watchers";
    static final String GROUP_WATCHERS = "group-watchers";
    static final String ATTRIBUTES = "attributes";
    static final String GROUP_ATTRIBUTES = "group-attributes";
    static final String CONNECTED = "connected";
    /** The one record listing every group that has had members. */
    public static final String GROUP_INDEX = "index/groups";

    public static String members(String group) {
        return MEMBERS + "/" + group;
    }

    public static String location(String component) {
        return LOCATION + "/" + component;
    }

    /** Watchers of a component (monitors, links, attribute monitors). */
    public static String watchers(String component) {
        return WATCHERS + "/" + component;
    }

    /** Watchers of a group (membership monitors, attribute monitors). */
    public static String groupWatchers(String group) {
        return GROUP_WATCHERS + "/" + group;
    }

    public static String attributes(String component) {
        return ATTRIBUTES + "/" + component;
    }

    /**
     * The components connected to {@code node}'s hub, as {@code <id>:<session>:<incarnation>} entries (see
     * {@link HubRecords#connected}): what to clean up when an incarnation of the node is lost.
     */
    public static String connected(String node) {
        return CONNECTED + "/" + node;
    }

    /** A group member as its set holds it: one session of a component. */
    record Member(String component, long session) {}

    /**
     * A group member's element in the group's set: {@code <component>:<session>}. A bare component id (no
     * session) was written before sessions were kept: it reads as session 0, which any session replaces.
     */
    static String memberEntry(String component, long session) {
        return component + ":" + session;
    }

    static Member member(String entry) {
        int colon = entry.indexOf(':');
        return colon < 0 ? new Member(entry, 0)
                : new Member(entry.substring(0, colon), Long.parseLong(entry.substring(colon + 1)));
    }

    public static String groupAttributes(String group) {
        return GROUP_ATTRIBUTES + "/" + group;
    }

    /** The kind of a key: the text before its first '/'. */
    static String kind(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? key : key.substring(0, slash);
    }

    /**
     * Checks a group name: 1 to 200 characters, no control characters.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static String checkGroup(String group) {
        if (group.isEmpty() || group.length() > 200) {
            throw new IllegalArgumentException("a group name has 1 to 200 characters, not " + group.length());
        }
        for (int i = 0; i < group.length(); i++) {
            if (Character.isISOControl(group.charAt(i))) {
                throw new IllegalArgumentException("group name '" + group.replaceAll("\\p{Cntrl}", "?")
                        + "' contains a control character");
            }
        }
        return group;
    }

    /**
     * Checks a component id: 40 hex digits of a valid id; returns it in lower case.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static String checkComponent(String component) {
        if (component.length() != Id.TEXT_LENGTH) {
            throw new IllegalArgumentException("a component id has " + Id.TEXT_LENGTH + " hex digits, '"
                    + abbreviate(component) + "' has " + component.length());
        }
        return Id.parse(component).toString();
    }

    static String abbreviate(String s) {
        return s.length() <= 48 ? s : s.substring(0, 45) + "...";
    }
}
