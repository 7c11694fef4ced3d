package io.smalti.ring.cluster;

import io.smalti.ring.Ring;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The ring this node currently applies, readable from any thread (REST handlers, routers). The ring
 * manager is its only writer.
 */
public final class RingView {

    /** Told of every ring this node applies. */
    @FunctionalInterface
    public interface Listener {
        /**
         * Called on the ring manager's thread, in epoch order; must return quickly and not block.
         *
         * @param previous the ring applied before, or null for the first
         */
        void ringApplied(Ring previous, Ring current);
    }

    private final AtomicReference<Ring> current = new AtomicReference<>();
    private final CopyOnWriteArrayList<Listener> listeners = new CopyOnWriteArrayList<>();

    /** The applied ring; empty until this node has received one from the cluster. */
    public Optional<Ring> current() {
        return Optional.ofNullable(current.get());
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    void apply(Ring ring) {
        Ring previous = current.getAndSet(ring);
        for (Listener l : listeners) {
            l.ringApplied(previous, ring);
        }
    }
}
