package io.smalti.credentials.vault;

import io.smalti.credentials.ca.Identity;
import io.smalti.protocol.credentials.VaultOperation;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Who may do what with the vault, decided by a pure function ({@link #allows}). Operators, and only they, put,
 * list and delete credentials, set the policy and read the audit; no one ever reads a confidential part. Every
 * other operation is denied unless a {@link Rule} grants it: to one identity, or to every component of a type, on
 * one credential or on a prefix. Immutable.
 */
public record Policy(List<Rule> rules) {
    /** What only operators do; no rule grants it. */
    public static final Set<VaultOperation> OPERATOR_ONLY = EnumSet.of(VaultOperation.PUT, VaultOperation.LIST,
            VaultOperation.DELETE, VaultOperation.SET_POLICY, VaultOperation.GET_POLICY, VaultOperation.AUDIT);
    /** What rules may grant. */
    public static final Set<VaultOperation> GRANTABLE = EnumSet.of(VaultOperation.HMAC, VaultOperation.SIGN,
            VaultOperation.PUBLIC_KEY, VaultOperation.AWS_SIGV4, VaultOperation.AUTHORIZATION_HEADER);
    /** Rules a policy may hold: each decision scans them all, on the service thread. */
    public static final int MAX_RULES = 10_000;

    public static final Policy DENY_ALL = new Policy(List.of());

    public Policy {
        rules = List.copyOf(rules);
        if (rules.size() > MAX_RULES) {
            throw new IllegalArgumentException("a policy holds at most " + MAX_RULES + " rules, not " + rules.size());
        }
    }

    /** Whether {@code caller} may run {@code operation} on the credential named {@code credential}. */
    public boolean allows(Caller caller, VaultOperation operation, String credential) {
        if (OPERATOR_ONLY.contains(operation)) {
            return caller.identity().subsystem().equals(Identity.OPERATOR);
        }
        if (!GRANTABLE.contains(operation)) {
            return false;
        }
        for (Rule r : rules) {
            if (r.operations().contains(operation) && r.covers(credential) && r.grants(caller)) {
                return true;
            }
        }
        return false;
    }
}
