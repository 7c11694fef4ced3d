package io.smalti.credentials.vault;

import io.smalti.credentials.ca.Identity;
import io.smalti.protocol.credentials.VaultCaller;
import java.util.List;

/**
 * Who asks the vault for something: the identity of the certificate the node agent verified, and for a component
 * its type (empty otherwise). Immutable.
 */
public record Caller(Identity identity, String componentType) {
    public Caller {
        if (identity == null) {
            throw new IllegalArgumentException("the caller's identity is missing");
        }
        componentType = componentType == null ? "" : componentType;
        if (!componentType.isEmpty() && !identity.subsystem().equals(Identity.HARNESS)) {
            throw new IllegalArgumentException("only a component (sub-system harness) has a component type, not "
                    + identity);
        }
        if (componentType.length() > 128 || !componentType.matches("[A-Za-z0-9._:/@-]*")) {
            throw new IllegalArgumentException("component type must be at most 128 letters, digits or . _ : / @ -, not '"
                    + componentType + "'");
        }
    }

    public static Caller operator(String name) {
        return new Caller(new Identity(Identity.OPERATOR, name, "", List.of()), "");
    }

    public static Caller component(String id, String node, String type) {
        return new Caller(new Identity(Identity.HARNESS, id, node, List.of()), type);
    }

    /** @throws IllegalArgumentException saying what is wrong with it */
    public static Caller of(VaultCaller p) {
        if (!p.hasIdentity()) {
            throw new IllegalArgumentException("the request names no caller");
        }
        io.smalti.protocol.credentials.Identity i = p.getIdentity();
        return new Caller(new Identity(i.getSubsystem(), i.getUid(), i.getNode(), List.of()), p.getComponentType());
    }

    public VaultCaller proto() {
        return VaultCaller.newBuilder().setIdentity(io.smalti.protocol.credentials.Identity.newBuilder()
                .setSubsystem(identity.subsystem()).setUid(identity.uid()).setNode(identity.node()))
                .setComponentType(componentType).build();
    }

    @Override
    public String toString() {
        return identity + (componentType.isEmpty() ? "" : " (type " + componentType + ")");
    }
}
