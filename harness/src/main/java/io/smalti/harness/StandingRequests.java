package io.smalti.harness;

import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Link;
import io.smalti.protocol.hub.Monitor;
import io.smalti.protocol.hub.Register;
import io.smalti.protocol.hub.Subject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The component's requests that outlive a hub connection: the groups it joined, the subjects it monitors and
 * the components it linked to. Recorded as they pass to the hub, replayed after a reconnect (a new hub
 * session knows nothing of them). Confined to the relay's event loop.
 */
final class StandingRequests {
    private final Set<String> groups = new LinkedHashSet<>();
    private final Set<Subject> monitors = new LinkedHashSet<>();
    private final Set<String> links = new LinkedHashSet<>();

    /** Records what {@code frame} (just forwarded to the hub) changes; other frames are ignored. */
    void record(Frame frame) {
        switch (frame.getBodyCase()) {
            case REGISTER -> groups.addAll(frame.getRegister().getGroupsList());
            case UNREGISTER -> frame.getUnregister().getGroupsList().forEach(groups::remove);
            case MONITOR -> monitors.add(frame.getMonitor().getSubject());
            case DEMONITOR -> monitors.remove(frame.getDemonitor().getSubject());
            case LINK -> links.add(frame.getLink().getComponent());
            default -> {
            }
        }
    }

    /** Whether frames with this body change the standing requests (so are worth decoding). */
    static boolean concerns(Frame.BodyCase body) {
        return body == Frame.BodyCase.REGISTER || body == Frame.BodyCase.UNREGISTER
                || body == Frame.BodyCase.MONITOR || body == Frame.BodyCase.DEMONITOR
                || body == Frame.BodyCase.LINK;
    }

    /** The requests that restore the standing state on a new hub session, without correlations. */
    List<Frame.Builder> replay() {
        List<Frame.Builder> frames = new ArrayList<>();
        if (!groups.isEmpty()) {
            frames.add(Frame.newBuilder().setRegister(Register.newBuilder().addAllGroups(groups)));
        }
        for (Subject subject : monitors) {
            frames.add(Frame.newBuilder().setMonitor(Monitor.newBuilder().setSubject(subject)));
        }
        for (String component : links) {
            frames.add(Frame.newBuilder().setLink(Link.newBuilder().setComponent(component)));
        }
        return frames;
    }

    /**
     * What of {@code request} (a replayed one, without correlation) the component still stands by: the groups
     * of a Register it has not left since, a Monitor or Link it has not withdrawn; null for nothing.
     */
    Frame stillStanding(Frame request) {
        switch (request.getBodyCase()) {
            case REGISTER -> {
                List<String> still = request.getRegister().getGroupsList().stream().filter(groups::contains).toList();
                return still.isEmpty() ? null : Frame.newBuilder().setRegister(Register.newBuilder().addAllGroups(still)).build();
            }
            case MONITOR -> {
                return monitors.contains(request.getMonitor().getSubject()) ? request : null;
            }
            case LINK -> {
                return links.contains(request.getLink().getComponent()) ? request : null;
            }
            default -> {
                return null;
            }
        }
    }

    Set<String> groups() {
        return Set.copyOf(groups);
    }

    int size() {
        return groups.size() + monitors.size() + links.size();
    }
}
