package io.smalti.credentials.vault;

import static io.smalti.protocol.credentials.VaultOperation.AUTHORIZATION_HEADER;
import static io.smalti.protocol.credentials.VaultOperation.AWS_SIGV4;
import static io.smalti.protocol.credentials.VaultOperation.HMAC;
import static io.smalti.protocol.credentials.VaultOperation.PUBLIC_KEY;
import static io.smalti.protocol.credentials.VaultOperation.SIGN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.credentials.ca.Identity;
import io.smalti.protocol.credentials.VaultOperation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyTest {
    private static final Caller ALICE = Caller.operator("alice");
    private static final Caller BILLING_1 = Caller.component("c1", "n1", "billing");
    private static final Caller BILLING_2 = Caller.component("c2", "n2", "billing");
    private static final Caller SHOP = Caller.component("c3", "n1", "shop");
    private static final Caller NODE = new Caller(new Identity(Identity.NODE, "n1", "n1", List.of()), "");
    private static final Caller VIEWER = new Caller(new Identity(Identity.VIEWER, "bob", "", List.of()), "");

    private static final Policy POLICY = new Policy(List.of(
            new Rule(new Rule.OfType("billing"), Set.of(HMAC, AWS_SIGV4), "payments/*"),
            new Rule(new Rule.OfIdentity(Identity.HARNESS, "c3"), Set.of(SIGN), "shop/signing-key"),
            new Rule(new Rule.OfIdentity(Identity.OPERATOR, "alice"), Set.of(PUBLIC_KEY), "*")));

    /** Each row: caller, operation, credential, allowed. */
    private static final Object[][] TABLE = {
            {BILLING_1, HMAC, "payments/stripe", true},
            {BILLING_2, AWS_SIGV4, "payments/s3", true},
            {BILLING_1, SIGN, "payments/stripe", false}, // operation not granted
            {BILLING_1, HMAC, "payment", false}, // outside the prefix
            {BILLING_1, HMAC, "shop/signing-key", false},
            {SHOP, HMAC, "payments/stripe", false}, // another type
            {SHOP, SIGN, "shop/signing-key", true}, // its own identity
            {SHOP, SIGN, "shop/signing-key2", false}, // a name, not a prefix
            {Caller.component("c3", "n9", ""), SIGN, "shop/signing-key", true}, // the node it runs on does not matter
            {Caller.component("c4", "n1", "shop"), SIGN, "shop/signing-key", false},
            {ALICE, VaultOperation.PUT, "anything", true}, // operators manage
            {ALICE, VaultOperation.LIST, "*", true},
            {ALICE, VaultOperation.DELETE, "payments/stripe", true},
            {ALICE, VaultOperation.AUDIT, "", true},
            {ALICE, VaultOperation.SET_POLICY, "", true},
            {ALICE, HMAC, "payments/stripe", false}, // but use only what a rule grants them
            {ALICE, PUBLIC_KEY, "shop/signing-key", true},
            {Caller.operator("carol"), PUBLIC_KEY, "shop/signing-key", false},
            {BILLING_1, VaultOperation.PUT, "payments/stripe", false}, // components never manage
            {BILLING_1, VaultOperation.LIST, "*", false},
            {NODE, VaultOperation.DELETE, "payments/stripe", false}, // nor does the node agent itself
            {VIEWER, VaultOperation.AUDIT, "", false},
            {VIEWER, PUBLIC_KEY, "shop/signing-key", false},
            {BILLING_1, VaultOperation.VAULT_OPERATION_UNSPECIFIED, "payments/stripe", false},
    };

    @Test
    void decidesEachRowOfTheTable() {
        for (Object[] row : TABLE) {
            assertEquals(row[3], POLICY.allows((Caller) row[0], (VaultOperation) row[1], (String) row[2]),
                    () -> row[0] + " " + row[1] + " " + row[2]);
        }
    }

    @Test
    void withoutRulesEveryComponentIsDeniedEverythingAndOperatorsOnlyManage() {
        for (Caller c : List.of(BILLING_1, SHOP, NODE, VIEWER, ALICE)) {
            for (VaultOperation op : VaultOperation.values()) {
                if (op == VaultOperation.UNRECOGNIZED) {
                    continue;
                }
                boolean expected = c == ALICE && Policy.OPERATOR_ONLY.contains(op);
                assertEquals(expected, Policy.DENY_ALL.allows(c, op, "payments/stripe"), c + " " + op);
            }
        }
    }

    /**
     * Random policies (fixed seeds): the decision does not depend on the rules' order; adding a rule never takes a
     * permission away; a rule grants only its own subject, operations and credentials (removing every rule that
     * names a caller denies it everything but what operators always may); what only operators do no policy changes.
     */
    @Test
    void randomPoliciesGrantExactlyWhatTheirRulesName() {
        List<Caller> callers = List.of(BILLING_1, BILLING_2, SHOP, NODE, VIEWER, ALICE, Caller.operator("carol"),
                Caller.component("c9", "n3", "shop"));
        List<String> names = List.of("payments/stripe", "payments/s3", "payment", "shop/signing-key", "x", "shop/a");
        List<String> patterns = List.of("payments/*", "payments/stripe", "shop/*", "*", "x", "pay*", "shop/a");
        List<VaultOperation> ops = new ArrayList<>(Policy.GRANTABLE);
        for (long seed = 1; seed <= 100; seed++) {
            Random r = new Random(seed);
            List<Rule> rules = new ArrayList<>();
            int n = r.nextInt(8);
            for (int i = 0; i < n; i++) {
                Caller c = callers.get(r.nextInt(callers.size()));
                Rule.Subject s = r.nextBoolean() || c.componentType().isEmpty()
                        ? new Rule.OfIdentity(c.identity().subsystem(), c.identity().uid())
                        : new Rule.OfType(c.componentType());
                Set<VaultOperation> granted = EnumSet.noneOf(VaultOperation.class);
                granted.add(ops.get(r.nextInt(ops.size())));
                if (r.nextBoolean()) {
                    granted.add(ops.get(r.nextInt(ops.size())));
                }
                rules.add(new Rule(s, granted, patterns.get(r.nextInt(patterns.size()))));
            }
            Policy p = new Policy(rules);
            List<Rule> shuffled = new ArrayList<>(rules);
            Collections.shuffle(shuffled, r);
            Policy q = new Policy(shuffled);
            Rule extra = new Rule(new Rule.OfType("billing"), Set.of(ops.get(r.nextInt(ops.size()))),
                    patterns.get(r.nextInt(patterns.size())));
            List<Rule> more = new ArrayList<>(rules);
            more.add(extra);
            Policy bigger = new Policy(more);
            for (Caller c : callers) {
                List<Rule> others = rules.stream().filter(rule -> !names(rule, c)).toList();
                Policy without = new Policy(others);
                for (String name : names) {
                    for (VaultOperation op : VaultOperation.values()) {
                        if (op == VaultOperation.UNRECOGNIZED) {
                            continue;
                        }
                        String what = "seed " + seed + ": " + c + " " + op + " " + name + " under " + rules;
                        boolean allowed = p.allows(c, op, name);
                        assertEquals(allowed, q.allows(c, op, name), what);
                        assertTrue(!allowed || bigger.allows(c, op, name), what);
                        if (Policy.OPERATOR_ONLY.contains(op)) {
                            assertEquals(c.identity().subsystem().equals(Identity.OPERATOR), allowed, what);
                        } else {
                            assertFalse(without.allows(c, op, name), what);
                            if (allowed) {
                                assertTrue(rules.stream().anyMatch(rule -> names(rule, c) && rule.operations().contains(op)
                                        && (rule.credential().equals(name) || rule.credential().endsWith("*")
                                        && name.startsWith(rule.credential().replace("*", "")))), what);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Whether a rule's subject is this caller (by identity, or by its component type). */
    private static boolean names(Rule rule, Caller c) {
        if (rule.subject() instanceof Rule.OfIdentity i) {
            return i.subsystem().equals(c.identity().subsystem()) && i.uid().equals(c.identity().uid());
        }
        return c.identity().subsystem().equals(Identity.HARNESS)
                && ((Rule.OfType) rule.subject()).componentType().equals(c.componentType());
    }

    @Test
    void aRuleThatWouldGrantWhatOnlyOperatorsDoOrNamesNoCredentialIsRefusedSayingWhy() {
        IllegalArgumentException put = assertThrows(IllegalArgumentException.class,
                () -> new Rule(new Rule.OfType("billing"), Set.of(VaultOperation.PUT), "payments/*"));
        assertTrue(put.getMessage().contains("cannot grant PUT"), put.getMessage());
        IllegalArgumentException pattern = assertThrows(IllegalArgumentException.class,
                () -> new Rule(new Rule.OfType("billing"), Set.of(HMAC), "pay*ments"));
        assertTrue(pattern.getMessage().contains("prefix ending in '*'"), pattern.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> new Rule(new Rule.OfType("billing"), Set.of(), "x"));
        assertTrue(none.getMessage().contains("grants no operation"), none.getMessage());
        IllegalArgumentException subsystem = assertThrows(IllegalArgumentException.class,
                () -> new Rule(new Rule.OfIdentity("root", "x"), Set.of(HMAC), "x"));
        assertTrue(subsystem.getMessage().contains("sub-system must be one of"), subsystem.getMessage());
        // A rule survives its wire form.
        Rule r = new Rule(new Rule.OfType("billing"), Set.of(HMAC, AUTHORIZATION_HEADER), "payments/*");
        assertEquals(r, Rule.of(r.proto()));
    }
}
