package io.smalti.component.instances;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The life-cycle of a component instance (thesis §4.5.3) and the changes it allows. Immutable.
 *
 * <pre>
 * preparing → initializing → available ⇄ unavailable
 *      any live state → stopping → destroying → destroyed;  any state but destroyed → failed
 * </pre>
 */
public enum InstanceState {
    PREPARING, INITIALIZING, AVAILABLE, UNAVAILABLE, STOPPING, DESTROYING, DESTROYED, FAILED;

    /** True when the instance counts towards its type's desired count (it runs or is on its way). */
    public boolean live() {
        return this == PREPARING || this == INITIALIZING || this == AVAILABLE || this == UNAVAILABLE;
    }

    /** True once nothing more will happen to the instance but being forgotten. */
    public boolean ended() {
        return this == DESTROYED || this == FAILED;
    }

    public boolean canBecome(InstanceState next) {
        return next(this).contains(next);
    }

    private static Set<InstanceState> next(InstanceState s) {
        return switch (s) {
            case PREPARING -> EnumSet.of(INITIALIZING, STOPPING, DESTROYING, FAILED);
            case INITIALIZING -> EnumSet.of(AVAILABLE, UNAVAILABLE, STOPPING, DESTROYING, FAILED);
            case AVAILABLE -> EnumSet.of(UNAVAILABLE, STOPPING, DESTROYING, FAILED);
            case UNAVAILABLE -> EnumSet.of(AVAILABLE, STOPPING, DESTROYING, FAILED);
            case STOPPING -> EnumSet.of(DESTROYING, DESTROYED, FAILED);
            case DESTROYING -> EnumSet.of(DESTROYED, FAILED);
            case FAILED -> EnumSet.of(DESTROYING, DESTROYED);
            case DESTROYED -> EnumSet.noneOf(InstanceState.class);
        };
    }

    /** The name used in records and the API: lower case. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException naming the text when it is not a state
     */
    public static InstanceState of(String text) {
        try {
            return valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown instance state '" + text + "'");
        }
    }
}
