package io.smalti.node.controller;

/** The states of a node's life-cycle; see {@link NodeLifecycle} for the transitions between them. */
public enum NodeState {
    /** Joining: not yet ready to run instances. */
    INITIALIZING,
    /** Up and taking new instances. */
    AVAILABLE,
    /** Marked so by an operator: takes no new instances, and its instances are moved away. */
    UNAVAILABLE,
    /** Not seen by its peers; may come back. */
    OFFLINE,
    /** Offline for longer than the timeout: given up on, its instances are rescheduled elsewhere. */
    FAILED,
    /** Being taken out of the cluster for good. */
    DESTROYING,
    /** Gone; terminal. */
    DESTROYED
}
