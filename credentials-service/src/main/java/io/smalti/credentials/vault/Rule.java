package io.smalti.credentials.vault;

import io.smalti.credentials.ca.Identity;
import io.smalti.protocol.credentials.PolicyRule;
import io.smalti.protocol.credentials.VaultOperation;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One grant of a vault policy: who (one identity, or every component of a type) may run which operations on
 * which credentials (a name, or a prefix ending in '*'). Immutable.
 */
public record Rule(Subject subject, Set<VaultOperation> operations, String credential) {
    /** Whom a rule grants to. */
    public sealed interface Subject permits OfIdentity, OfType {
    }

    /** One identity: its sub-system and uid (the node it runs on does not matter). */
    public record OfIdentity(String subsystem, String uid) implements Subject {
        public OfIdentity {
            new Identity(subsystem, uid, "", List.of()); // the same checks as a certificate's
        }
    }

    /** Every component of a type. */
    public record OfType(String componentType) implements Subject {
        public OfType {
            if (componentType == null || componentType.isEmpty()) {
                throw new IllegalArgumentException("a rule's component type is empty");
            }
            new Caller(new Identity(Identity.HARNESS, "x", "", List.of()), componentType); // the same checks
        }
    }

    public Rule {
        if (subject == null) {
            throw new IllegalArgumentException("a rule needs a subject: an identity or a component type");
        }
        if (operations == null || operations.isEmpty()) {
            throw new IllegalArgumentException("a rule grants no operation");
        }
        operations = Set.copyOf(operations);
        for (VaultOperation op : operations) {
            if (!Policy.GRANTABLE.contains(op)) {
                throw new IllegalArgumentException("a rule cannot grant " + op + ": only " + Policy.GRANTABLE
                        + " (putting, listing and deleting credentials, the policy and the audit are for operators)");
            }
        }
        String name = credential != null && credential.endsWith("*") ? credential.substring(0, credential.length() - 1)
                : credential;
        if (name == null || !(name.isEmpty() && credential.equals("*")) && !Vault.NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a rule's credential must be a credential name or a prefix ending in '*', not '"
                    + credential + "'");
        }
    }

    /** Whether this rule names {@code name}. */
    boolean covers(String name) {
        return credential.endsWith("*") ? name.startsWith(credential.substring(0, credential.length() - 1))
                : name.equals(credential);
    }

    boolean grants(Caller caller) {
        if (subject instanceof OfIdentity i) {
            return i.subsystem().equals(caller.identity().subsystem()) && i.uid().equals(caller.identity().uid());
        }
        return caller.identity().subsystem().equals(Identity.HARNESS)
                && ((OfType) subject).componentType().equals(caller.componentType());
    }

    /** @throws IllegalArgumentException saying what is wrong with it */
    public static Rule of(PolicyRule p) {
        Subject s = switch (p.getSubjectCase()) {
            case IDENTITY -> new OfIdentity(p.getIdentity().getSubsystem(), p.getIdentity().getUid());
            case COMPONENT_TYPE -> new OfType(p.getComponentType());
            case SUBJECT_NOT_SET -> null;
        };
        Set<VaultOperation> ops = EnumSet.noneOf(VaultOperation.class);
        ops.addAll(p.getOperationsList());
        return new Rule(s, ops, p.getCredential());
    }

    public PolicyRule proto() {
        PolicyRule.Builder b = PolicyRule.newBuilder().setCredential(credential);
        if (subject instanceof OfIdentity i) {
            b.setIdentity(io.smalti.protocol.credentials.Identity.newBuilder().setSubsystem(i.subsystem()).setUid(i.uid()));
        } else {
            b.setComponentType(((OfType) subject).componentType());
        }
        operations.stream().sorted().forEach(b::addOperations);
        return b.build();
    }
}
