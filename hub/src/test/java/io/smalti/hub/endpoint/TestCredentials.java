package io.smalti.hub.endpoint;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Pem;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A cluster CA in a temporary directory and the hub's credentials from it, in-process (the twin of a node's
 * credentials service): the node certificate, harness certificates checked by {@link HarnessCertificates}, one-time
 * tokens and a revocation set the test controls. Thread-safe.
 */
public final class TestCredentials implements HubTls {
    public static final String CLUSTER = "test";

    private final ClusterCa ca;
    private final String node;
    private final SslContext server;
    private final OneTimeTokens tokens = new OneTimeTokens(Duration.ofSeconds(60), 1000);
    private final Set<BigInteger> revoked = ConcurrentHashMap.newKeySet();

    public TestCredentials(Path dir, String node) throws Exception {
        Path key = dir.resolve("master.key");
        Files.writeString(key, "a test master key, long enough", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path caDir = dir.resolve("ca");
        this.ca = ClusterCa.create(caDir, MasterKey.create(caDir, MasterKey.readSecret(key)), CLUSTER, KeyAlgorithm.EC,
                Instant.now());
        this.node = node;
        KeyPair pair = KeyAlgorithm.EC.generate();
        X509Certificate cert = ca.issue(new Identity(Identity.NODE, node, node, List.of("127.0.0.1")), pair.getPublic(),
                Duration.ofHours(1), Instant.now());
        this.server = SslContextBuilder.forServer(pair.getPrivate(), cert, ca.certificate())
                .clientAuth(ClientAuth.OPTIONAL).trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    }

    public ClusterCa ca() {
        return ca;
    }

    /** A harness certificate and key for {@code component} at {@code node}, valid from {@code from} for {@code life}. */
    public Issued harness(String component, String forNode, Instant from, Duration life, KeyPair pair) {
        X509Certificate c = ca.issue(new Identity(Identity.HARNESS, component, forNode, List.of()), pair.getPublic(),
                life, from);
        return issued(c);
    }

    public void revoke(BigInteger serial) {
        revoked.add(serial);
    }

    public String token(String component) throws OneTimeTokens.Refused {
        synchronized (tokens) {
            return tokens.make(new Identity(Identity.HARNESS, component, node, List.of()), Instant.now()).value();
        }
    }

    /** A client TLS context that presents {@code cert} with {@code pair}'s key (none: no client certificate). */
    public static SSLContext client(X509Certificate ca, X509Certificate cert, KeyPair pair) throws Exception {
        KeyManagerFactory kmf = null;
        if (cert != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("me", pair.getPrivate(), new char[0], new Certificate[] {cert});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
        }
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trusted);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    @Override
    public SslContext serverContext() {
        return server;
    }

    @Override
    public Optional<String> refusal(X509Certificate[] chain, String component) {
        return HarnessCertificates.refusal(chain, component, ca.certificate(), CLUSTER, node, Set.copyOf(revoked),
                Instant.now());
    }

    @Override
    public CompletionStage<Issued> redeem(String token, byte[] publicKey) {
        try {
            Identity id;
            synchronized (tokens) {
                id = tokens.redeem(token, Instant.now());
            }
            return CompletableFuture.completedFuture(issued(ca.issue(id, Pem.parsePublicKey(publicKey),
                    Duration.ofHours(1), Instant.now())));
        } catch (OneTimeTokens.Refused e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public CompletionStage<Issued> renew(String component, byte[] publicKey) {
        return CompletableFuture.completedFuture(issued(ca.issue(new Identity(Identity.HARNESS, component, node, List.of()),
                Pem.parsePublicKey(publicKey), Duration.ofHours(1), Instant.now())));
    }

    private Issued issued(X509Certificate c) {
        try {
            return new Issued(c.getEncoded(), ca.certificate().getEncoded(), c.getNotAfter().getTime());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String caPem() {
        return Pem.certificate(ca.certificate());
    }

    /**
     * For in-memory pipelines without TLS (the router's tests): every hello may speak for the component it names.
     * The certificate check itself is tested over real TLS in {@code HubEndpointTest}.
     */
    public static final HubTls TRUSTING = new HubTls() {
        @Override
        public SslContext serverContext() {
            throw new UnsupportedOperationException("no TLS in memory");
        }

        @Override
        public Optional<String> refusal(X509Certificate[] chain, String component) {
            return Optional.empty();
        }

        @Override
        public CompletionStage<Issued> redeem(String token, byte[] publicKey) {
            return CompletableFuture.failedFuture(new IllegalStateException("no enrolment in memory"));
        }

        @Override
        public CompletionStage<Issued> renew(String component, byte[] publicKey) {
            return CompletableFuture.failedFuture(new IllegalStateException("no enrolment in memory"));
        }

        @Override
        public String caPem() {
            return "";
        }
    };
}
