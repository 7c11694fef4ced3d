package io.smalti.hub.endpoint;

import io.smalti.credentials.ca.Identity;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a harness connection's client certificate lets it speak for the component its hello names: a pure function
 * of the chain, the claim, the cluster CA, this node, the revoked serials and the time. A harness certificate is
 * valid only at its own node's hub, so each node's revocation list covers every harness certificate it accepts.
 */
public final class HarnessCertificates {
    private HarnessCertificates() {
    }

    /** Why the connection must be refused, or empty when the certificate is {@code component}'s, issued for {@code node}. */
    public static Optional<String> refusal(X509Certificate[] chain, String component, X509Certificate ca, String cluster,
                                           String node, Set<BigInteger> revoked, Instant now) {
        if (chain == null || chain.length == 0) {
            return Optional.of("no client certificate: a harness must present the certificate its node issued it "
                    + "(redeem the token of its configuration with Enroll first)");
        }
        X509Certificate leaf = chain[0];
        try {
            leaf.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            return Optional.of("the certificate (" + leaf.getSubjectX500Principal() + ", issuer "
                    + leaf.getIssuerX500Principal() + ") was not issued by this cluster's CA");
        }
        try {
            leaf.checkValidity(Date.from(now));
        } catch (CertificateExpiredException e) {
            return Optional.of("the certificate expired at " + leaf.getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            return Optional.of("the certificate is not valid before " + leaf.getNotBefore().toInstant());
        }
        Optional<Identity.Named> named = Identity.of(leaf);
        if (named.isEmpty() || !named.get().cluster().equals(cluster)) {
            return Optional.of("the certificate subject " + leaf.getSubjectX500Principal() + " is not a harness of cluster "
                    + cluster);
        }
        Identity id = named.get().identity();
        if (!id.subsystem().equals(Identity.HARNESS)) {
            return Optional.of("a " + id.subsystem() + " certificate (" + id + ") cannot speak for a component");
        }
        if (!id.uid().equalsIgnoreCase(component)) {
            return Optional.of("the certificate is component " + id.uid() + "'s; the hello claims " + component);
        }
        if (!id.node().equals(node)) {
            return Optional.of("the certificate was issued for node " + id.node() + "'s hub, not " + node + "'s");
        }
        if (revoked.contains(leaf.getSerialNumber())) {
            return Optional.of("the certificate (serial " + leaf.getSerialNumber().toString(16) + ") was revoked");
        }
        return Optional.empty();
    }
}
