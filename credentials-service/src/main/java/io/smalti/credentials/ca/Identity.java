package io.smalti.credentials.ca;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * Who a certificate speaks for, mapped as the thesis §4.9.4 says: DC = the cluster, O = the sub-system, UID = the
 * agent's or component's id, OU = the node's name; subjectAltName = the endpoints. Immutable.
 *
 * @param subsystem one of {@link #NODE}, {@link #HARNESS}, {@link #OPERATOR}, {@link #VIEWER}
 * @param uid       a node's name, a component's id, an operator's name
 * @param node      the node the agent runs on; for operators, empty
 * @param endpoints host names or addresses (DNS or IP names) and URIs the agent listens on
 */
public record Identity(String subsystem, String uid, String node, List<String> endpoints) {
    public static final String NODE = "node";
    public static final String HARNESS = "harness";
    public static final String OPERATOR = "operator";
    public static final String VIEWER = "viewer";
    private static final List<String> SUBSYSTEMS = List.of(NODE, HARNESS, OPERATOR, VIEWER);

    public Identity {
        if (!SUBSYSTEMS.contains(subsystem)) {
            throw new IllegalArgumentException("sub-system must be one of " + SUBSYSTEMS + ", not '" + subsystem + "'");
        }
        uid = checkName(uid, "uid", false);
        node = checkName(node == null ? "" : node, "node", true);
        endpoints = List.copyOf(endpoints == null ? List.of() : endpoints);
        for (String e : endpoints) {
            if (e.isBlank() || e.length() > 255 || e.chars().anyMatch(c -> c <= ' ' || c == ',')) {
                throw new IllegalArgumentException("bad endpoint '" + e + "'");
            }
        }
    }

    private static String checkName(String s, String what, boolean mayBeEmpty) {
        if (s == null || (!mayBeEmpty && s.isEmpty())) {
            throw new IllegalArgumentException(what + " is missing");
        }
        if (s.length() > 128 || !s.matches("[A-Za-z0-9._:@-]*")) {
            throw new IllegalArgumentException(what + " must be at most 128 letters, digits or . _ : @ -, not '" + s + "'");
        }
        return s;
    }

    /** The subject name in RFC 2253 form (most significant last: UID, OU, O, DC), e.g. for a certificate builder. */
    public String subject(String cluster) {
        StringBuilder b = new StringBuilder("UID=").append(uid);
        if (!node.isEmpty()) {
            b.append(",OU=").append(node);
        }
        return b.append(",O=").append(subsystem).append(",DC=").append(cluster).toString();
    }

    /** This identity without its endpoints (what a certificate's subject says; the endpoints are its alternative names). */
    public Identity withoutEndpoints() {
        return new Identity(subsystem, uid, node, List.of());
    }

    /** Whether this identity may change things through the REST API (operators and nodes; viewers only read). */
    public boolean mayChange() {
        return subsystem.equals(OPERATOR) || subsystem.equals(NODE);
    }

    @Override
    public String toString() {
        return subsystem + " " + uid + (node.isEmpty() ? "" : "@" + node);
    }

    /** A verified certificate's cluster (DC) and identity. */
    public record Named(String cluster, Identity identity) {
    }

    /**
     * Reads the identity of a certificate whose chain was verified; empty when its subject is not one Smalti issues.
     * JDK classes only, so that the harness can use it without Bouncy Castle.
     */
    public static Optional<Named> of(X509Certificate cert) {
        return parse(cert.getSubjectX500Principal());
    }

    static Optional<Named> parse(X500Principal principal) {
        String uid = null;
        String ou = "";
        String o = null;
        String dc = null;
        try {
            for (Rdn rdn : new LdapName(principal.getName(X500Principal.RFC2253)).getRdns()) {
                String type = rdn.getType().toUpperCase(Locale.ROOT);
                String value = String.valueOf(rdn.getValue());
                switch (type) {
                    case "UID", "0.9.2342.19200300.100.1.1" -> uid = value;
                    case "OU" -> ou = value;
                    case "O" -> o = value;
                    case "DC", "0.9.2342.19200300.100.1.25" -> dc = value;
                    default -> {
                        return Optional.empty();
                    }
                }
            }
            if (uid == null || o == null || dc == null) {
                return Optional.empty();
            }
            return Optional.of(new Named(dc, new Identity(o, uid, ou, List.of())));
        } catch (InvalidNameException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The DNS and IP subjectAltNames of a certificate (for logs and checks). */
    public static List<String> endpointsOf(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                cert.getSubjectAlternativeNames().forEach(n -> out.add(String.valueOf(n.get(1))));
            }
        } catch (java.security.cert.CertificateParsingException e) {
            // no names to report
        }
        return out;
    }
}
