package io.smalti.node.security;

import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.node.controller.Backoff;
import io.smalti.node.controller.ProcessSupervisor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's side of security: starts and supervises the node's credentials service (a process of its own, which
 * alone holds the CA key), holds the node's certificate (one for the cluster transport, the REST API and the hub,
 * renewed at two thirds of its life without closing connections) and the revocation list (refreshed every
 * {@code crl-refresh}). {@link #current()} and {@link #revoked()} may be read from any thread; renewals and
 * refreshes run on this object's own thread, {@code node-credentials}, which also tells the listeners.
 */
public final class NodeCredentials implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeCredentials.class);

    private final SecuritySettings settings;
    private final Identity identity;
    private final String cluster;
    private final ProcessSupervisor service;
    private final CredentialsClient client;
    private final ScheduledExecutorService owner = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "node-credentials");
        t.setDaemon(true);
        return t;
    });
    private final List<Consumer<TlsMaterial>> listeners = new CopyOnWriteArrayList<>();
    private volatile TlsMaterial current;
    private volatile Set<BigInteger> revoked = Set.of();
    private volatile byte[] crlDer = new byte[0];

    private NodeCredentials(SecuritySettings settings, Identity identity, String cluster, ProcessSupervisor service,
                            CredentialsClient client) {
        this.settings = settings;
        this.identity = identity;
        this.cluster = cluster;
        this.service = service;
        this.client = client;
    }

    /**
     * Starts the credentials service and gets this node's certificate for {@code endpoints} (its addresses).
     *
     * @throws IllegalStateException saying why (no CA here, a wrong master key, a tampered key file, ...)
     */
    public static NodeCredentials start(SecuritySettings settings, String node, List<String> endpoints, Path dataDir) {
        if (!ClusterCa.exists(settings.dir())) {
            throw new IllegalStateException("no cluster CA in " + settings.dir() + ": initialise the cluster's credentials "
                    + "with `smalti cluster init` (a local cluster: `smalti cluster up`) and give this node a copy");
        }
        String cluster;
        try {
            cluster = ClusterCa.clusterOf(io.smalti.credentials.ca.Pem.parseCertificate(Files.readAllBytes(
                    settings.dir().resolve(ClusterCa.CERTIFICATE_FILE))));
        } catch (IOException | IllegalArgumentException | CredentialsException e) {
            throw new IllegalStateException("cannot read the CA certificate in " + settings.dir() + ": " + e.getMessage(), e);
        }
        Path socket = socketPath(settings.dir());
        Path log = dataDir.resolve("credentials.log");
        ProcessSupervisor supervisor = ProcessSupervisor.builder("credentials-service", command(settings, socket))
                .logFile(log).backoff(Backoff.defaults()).build();
        Identity self = new Identity(Identity.NODE, node, node, endpoints);
        NodeCredentials c = new NodeCredentials(settings, self, cluster, supervisor, new CredentialsClient(socket));
        supervisor.start();
        try {
            c.awaitService(log, Duration.ofSeconds(30));
            c.renew();
            c.refreshCrl();
        } catch (RuntimeException e) {
            c.close();
            throw e instanceof IllegalStateException ? e : new IllegalStateException(e.getMessage(), e);
        }
        c.scheduleRenewal();
        c.owner.scheduleWithFixedDelay(c::refreshCrlQuietly, settings.crlRefresh().toMillis(),
                settings.crlRefresh().toMillis(), TimeUnit.MILLISECONDS);
        return c;
    }

    /** The service's socket: in its own directory, unless that path is too long for a Unix socket (107 bytes). */
    static Path socketPath(Path dir) {
        Path p = dir.resolve("service.sock").toAbsolutePath();
        if (p.toString().getBytes(StandardCharsets.UTF_8).length < 100) {
            return p;
        }
        String hash = Integer.toHexString(dir.toAbsolutePath().toString().hashCode());
        return Path.of(System.getProperty("java.io.tmpdir"), "smalti-credentials-" + hash, "service.sock");
    }

    private static List<String> command(SecuritySettings s, Path socket) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Small and quick: it signs a few certificates a second at most. Argon2 needs its 64 MiB once, at start.
        cmd.addAll(List.of("-Xms16m", "-Xmx160m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.smalti.credentials.service.CredentialsMain",
                "serve", "--dir", s.dir().toString(), "--socket", socket.toString(),
                "--master-key-file", s.masterKeyFile().toString(),
                "--lifetime", s.certificateLifetime().toMillis() + "ms",
                "--token-expiry", s.tokenExpiry().toMillis() + "ms"));
        return cmd;
    }

    private void awaitService(Path log, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            ProcessSupervisor.Status st = service.status();
            if (st.lastExit() != null && st.lastExit() == 2) {
                throw new IllegalStateException("the credentials service refused to start: " + lastLine(log));
            }
            try {
                client.crl();
                return;
            } catch (CredentialsException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the credentials service did not answer within " + limit.toSeconds()
                            + " s (" + e.getMessage() + "; see " + log + ")");
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting the credentials service");
            }
        }
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).contains("credentials service:")) {
                    return lines.get(i).substring(lines.get(i).indexOf("credentials service:") + 21);
                }
            }
            return "see " + log;
        } catch (IOException e) {
            return "see " + log;
        }
    }

    private void renew() {
        KeyPair pair = settings.keyAlgorithm().generate();
        CredentialsClient.Issued issued = client.issue(identity, pair.getPublic(), settings.certificateLifetime());
        current = TlsMaterial.of(pair.getPrivate(), issued.certificate(), issued.ca());
        LOG.info("Node certificate {} valid until {}", identity, issued.certificate().getNotAfter().toInstant());
        listeners.forEach(l -> l.accept(current));
    }

    private void scheduleRenewal() {
        Instant notAfter = current.certificate().getNotAfter().toInstant();
        Instant notBefore = current.certificate().getNotBefore().toInstant().plus(Duration.ofMinutes(5));
        Duration life = Duration.between(notBefore, notAfter);
        long delay = Math.max(1000, Duration.between(Instant.now(), notBefore.plus(SecuritySettings.renewAfter(life))).toMillis());
        owner.schedule(() -> {
            try {
                renew();
            } catch (RuntimeException e) {
                LOG.error("Cannot renew the node certificate (retrying in 10 s): {}", e.getMessage());
                owner.schedule(this::scheduleRenewal, 10, TimeUnit.SECONDS);
                return;
            }
            scheduleRenewal();
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void refreshCrl() {
        CredentialsClient.Crl crl = client.crl();
        revoked = crl.serials();
        crlDer = crl.der();
    }

    private void refreshCrlQuietly() {
        try {
            refreshCrl();
        } catch (RuntimeException e) {
            LOG.warn("Cannot refresh the revocation list: {}", e.getMessage());
        }
    }

    /** Refreshes the revocation list now (after this node revoked something), on the owner thread. */
    public void revokedChanged() {
        owner.execute(this::refreshCrlQuietly);
    }

    /** The node's current certificate, key and CA. */
    public TlsMaterial current() {
        return current;
    }

    /** Called with the new material after every renewal, on the {@code node-credentials} thread. */
    public void onRenewal(Consumer<TlsMaterial> listener) {
        listeners.add(listener);
    }

    public Set<BigInteger> revoked() {
        return revoked;
    }

    /** The CA-signed revocation list (DER), as last fetched. */
    public byte[] crlDer() {
        return crlDer.clone();
    }

    public String cluster() {
        return cluster;
    }

    public Identity identity() {
        return identity;
    }

    public SecuritySettings settings() {
        return settings;
    }

    /** The credentials service client: tokens, issuance for children, revocation. Thread-safe. */
    public CredentialsClient client() {
        return client;
    }

    @Override
    public void close() {
        owner.shutdownNow();
        client.close();
        service.stop(Duration.ofSeconds(5));
    }
}
