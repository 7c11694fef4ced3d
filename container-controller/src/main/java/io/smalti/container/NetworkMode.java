package io.smalti.container;

/** How an lxc container reaches the network: its own namespace on the node bridge, or the host's network. */
public enum NetworkMode {
    BRIDGE, HOST
}
