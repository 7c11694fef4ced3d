package io.smalti.harness.sdk;

import io.smalti.protocol.hub.AttributeTarget;
import io.smalti.protocol.hub.Selector;
import java.util.Objects;

/**
 * Who a call, cast or attribute request is for: one component by id, or a group with selector any (one
 * member, the default) or all (every member). Immutable.
 */
public final class Target {
    private final String component;
    private final String group;
    private final boolean all;

    private Target(String component, String group, boolean all) {
        this.component = component;
        this.group = group;
        this.all = all;
    }

    /** One component, by its 40-hex-digit id. */
    public static Target component(String id) {
        return new Target(Objects.requireNonNull(id, "id"), null, false);
    }

    /** One member of {@code name}, chosen by the hub. */
    public static Target group(String name) {
        return new Target(null, Objects.requireNonNull(name, "name"), false);
    }

    /** This group target with selector all (every member); a component target is returned unchanged. */
    public Target all() {
        return group == null ? this : new Target(null, group, true);
    }

    /** This group target with selector any (one member). */
    public Target any() {
        return group == null ? this : new Target(null, group, false);
    }

    public boolean isGroup() {
        return group != null;
    }

    public boolean isAll() {
        return all;
    }

    /** The component id or group name. */
    public String name() {
        return group != null ? group : component;
    }

    io.smalti.protocol.hub.Target toProto() {
        io.smalti.protocol.hub.Target.Builder b = io.smalti.protocol.hub.Target.newBuilder();
        if (group != null) {
            b.setGroup(group).setSelector(all ? Selector.ALL : Selector.ANY);
        } else {
            b.setComponent(component);
        }
        return b.build();
    }

    AttributeTarget toAttributeTarget() {
        return group != null
                ? AttributeTarget.newBuilder().setGroup(group).build()
                : AttributeTarget.newBuilder().setComponent(component).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Target t && Objects.equals(component, t.component) && Objects.equals(group, t.group)
                && all == t.all;
    }

    @Override
    public int hashCode() {
        return Objects.hash(component, group, all);
    }

    @Override
    public String toString() {
        return group != null ? "group " + group + (all ? " (all)" : "") : "component " + component;
    }
}
