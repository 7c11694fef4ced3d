package io.smalti.ring.vnode;

import io.smalti.protocol.vnode.VnodeEnvelope;

/** Names one replica: a service and a vnode. Its journal id is {@code service-vnode}. */
public record ReplicaKey(String service, int vnode) implements Comparable<ReplicaKey> {

    /** An envelope addressed to this replica, built on the ring of {@code ringEpoch}. */
    VnodeEnvelope.Builder envelope(long ringEpoch) {
        return VnodeEnvelope.newBuilder().setService(service).setVnode(vnode).setRingEpoch(ringEpoch);
    }

    public String persistenceId() {
        return service + "-" + vnode;
    }

    /** The key of a journal id written by {@link #persistenceId()}, or null if it is not one. */
    public static ReplicaKey fromPersistenceId(String id) {
        int dash = id.lastIndexOf('-');
        if (dash <= 0) {
            return null;
        }
        try {
            return new ReplicaKey(id.substring(0, dash), Integer.parseInt(id.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int compareTo(ReplicaKey o) {
        int c = service.compareTo(o.service);
        return c != 0 ? c : Integer.compare(vnode, o.vnode);
    }

    @Override
    public String toString() {
        return service + "/" + vnode;
    }
}
