package io.smalti.container;

/** What a driver knows of an instance: its init runs, it exists but is stopped, or the driver has nothing of it. */
public enum ContainerState {
    RUNNING, STOPPED, ABSENT
}
