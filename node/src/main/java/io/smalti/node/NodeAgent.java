package io.smalti.node;

import io.smalti.hub.Hub;
import io.smalti.hub.records.HubService;
import io.smalti.node.api.ApiGuard;
import io.smalti.node.api.RestApi;
import io.smalti.node.security.ArteryTls;
import io.smalti.node.security.NodeCredentials;
import io.smalti.node.security.NodeHubTls;
import io.smalti.protocol.cluster.NodeInfo;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.NodeDirectory;
import io.smalti.ring.cluster.RingManager;
import io.smalti.ring.cluster.RingStore;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.crdt.Hlc;
import io.smalti.ring.kv.KvService;
import io.smalti.ring.vnode.Vnodes;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * One running node agent: the actor system (cluster member), its agents and the REST API. Created by
 * {@link #start(NodeSettings)}; stopped by {@link #stop()} or a coordinated shutdown (SIGTERM).
 */
public final class NodeAgent {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeAgent.class);
    public static final String VERSION = readVersion();

    private final NodeSettings settings;
    private final ActorSystem<Void> system;
    private final DataDirLock lock;
    private final Instant startedAt;
    /** Completes once the actor system has terminated and the credentials service has been stopped. */
    private final CompletionStage<Done> stopped;

    private NodeAgent(NodeSettings settings, ActorSystem<Void> system, DataDirLock lock, Instant startedAt,
                      NodeCredentials credentials) {
        this.settings = settings;
        this.system = system;
        this.lock = lock;
        this.startedAt = startedAt;
        // The credentials service outlives the actor system: the last instances are destroyed (and revoked) in it.
        this.stopped = system.getWhenTerminated().thenApply(d -> {
            credentials.close();
            return d;
        });
    }

    /**
     * Locks the data directory, starts the cluster member and its agents, and binds the REST API.
     *
     * @throws IllegalStateException saying what could not start (data directory, cluster port, API port)
     */
    public static NodeAgent start(NodeSettings settings) {
        DataDirLock lock = DataDirLock.acquire(settings.dataDir());
        Instant startedAt = Instant.now();
        // Credentials first: the cluster transport, the hub and the API all present this node's certificate.
        NodeCredentials credentials;
        try {
            credentials = NodeCredentials.start(settings.security(), settings.name(), endpoints(settings),
                    settings.dataDir());
        } catch (RuntimeException e) {
            lock.close();
            throw new IllegalStateException("cannot start this node's credentials: " + e.getMessage(), e);
        }
        RingView ringView = new RingView();
        NodeDirectory.View directory = new NodeDirectory.View();
        String apiUrl = "https://" + hostInUrl(settings.api().host()) + ":" + settings.api().port();
        NodeInfo self = NodeInfo.newBuilder()
                .setName(settings.name())
                .setClusterAddress(settings.cluster().toString())
                .setApiUrl(apiUrl)
                .setVersion(VERSION)
                .setStartedAtMillis(startedAt.toEpochMilli())
                .build();
        RingStore ringStore = new RingStore(settings.dataDir());
        Optional<Ring> stored = loadStoredRing(ringStore);
        CompletableFuture<Vnodes> vnodes = new CompletableFuture<>();
        AtomicReference<org.apache.pekko.actor.typed.ActorRef<RingManager.Command>> ringManager = new AtomicReference<>();
        Hlc clock = new Hlc();
        ClusterMembers members = new ClusterMembers(settings.name());
        ActorSystem<Void> system;
        try {
            system = ActorSystem.create(Behaviors.setup(ctx -> {
                // The vnode framework first, so it sees every ring the ring manager applies.
                vnodes.complete(Vnodes.start(ctx, members, ringView, stored,
                        List.of(new KvService(settings.name(), clock), new HubService(settings.name(), clock),
                                new io.smalti.component.records.ComponentService(settings.name(), clock)), settings.vnode()));
                ringManager.set(ctx.spawn(RingManager.create(settings.name(), settings.ring(), ringStore, ringView),
                        "ring-manager"));
                ctx.spawn(NodeDirectory.create(self, directory), "node-directory");
                return Behaviors.empty();
            }), settings.clusterName(), org.apache.pekko.actor.setup.ActorSystemSetup.create(
                    org.apache.pekko.actor.BootstrapSetup.create(settings.config()),
                    org.apache.pekko.remote.artery.tcp.SSLEngineProviderSetup.create(sys -> new ArteryTls(credentials))));
        } catch (RuntimeException e) {
            credentials.close();
            lock.close();
            throw new IllegalStateException("cannot start the cluster member on " + settings.cluster() + ": "
                    + rootMessage(e), e);
        }
        NodeAgent agent = new NodeAgent(settings, system, lock, startedAt, credentials);
        NodeHubTls hubTls = new NodeHubTls(credentials, java.time.Clock.systemUTC());
        Vnodes started;
        try {
            // The guardian starts the framework as the actor system starts; it creates the journal schema.
            started = vnodes.get(30, TimeUnit.SECONDS);
            started.journalReady().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            agent.stop();
            throw new IllegalStateException("cannot open the journal (" + settings.journal() + "): " + rootMessage(e), e);
        }
        Hub hub;
        java.util.concurrent.atomic.AtomicReference<java.util.function.Function<String, String>> typeNameOf =
                new java.util.concurrent.atomic.AtomicReference<>(id -> "");
        java.util.function.Function<String, String> typeNames = id -> typeNameOf.get().apply(id);
        try {
            // Which type an instance is of comes from the instance agent, started just after: looked up when used.
            hub = Hub.start(system, started.client(), members, settings.hub(), hubTls,
                    new io.smalti.node.security.NodeCredentialUse(credentials, id -> typeNames.apply(id)));
        } catch (IllegalStateException e) {
            agent.stop();
            throw e;
        }
        io.smalti.component.Components components;
        try {
            components = ComponentWiring.start(system, settings, started.client(), ringView, members, hub,
                    new io.smalti.component.instances.InstanceAgent.Enrolment() {
                        @Override
                        public String token(String instance) {
                            return hubTls.token(instance);
                        }

                        @Override
                        public void revoke(String instance) {
                            hubTls.revoke(instance);
                        }
                    });
        } catch (RuntimeException e) {
            agent.stop();
            throw new IllegalStateException("cannot start the component agents: " + rootMessage(e), e);
        }
        io.smalti.component.Components started2 = components;
        typeNameOf.set(id -> started2.agent().typeName(id).orElse(""));
        // The journal, the ring, the hub's key and the components' directories exist now: owner-only, like the
        // data directory itself (DataDirLock made it so).
        OwnerOnly.restrictDataDir(settings.dataDir());
        io.smalti.node.controller.PeerView peers = watchPeers(system, members);
        ApiGuard guard = new ApiGuard(credentials.cluster(), settings.api().host(), apiHosts(settings.api().host()),
                settings.api().port(),
                credentials::revoked);
        RestApi api = new RestApi(system, settings.name(), ringView, directory, started, hub, components, peers, startedAt,
                settings.apiMaxBody(), guard, credentials, hubTls);
        ServerBinding binding;
        try {
            // Each connection takes the node's current certificate; a client certificate is required.
            HttpsConnectionContext https = ConnectionContext.httpsServer(() -> {
                javax.net.ssl.SSLEngine engine = credentials.current().context().createSSLEngine();
                engine.setUseClientMode(false);
                // Wanted, not needed: a joining machine has none yet (POST /v1/join); ApiGuard refuses every other
                // request without one, with a 401 that says what to do rather than a failed handshake.
                engine.setWantClientAuth(true);
                return engine;
            });
            binding = Http.get(system).newServerAt(settings.api().host(), settings.api().port()).enableHttps(https)
                    .bind(api.routes()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            agent.stop();
            throw new IllegalStateException("cannot listen for the REST API on " + settings.api() + ": "
                    + rootMessage(e), e);
        }
        CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
        shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-rest-api",
                () -> binding.unbind().thenApply(x -> Done.getInstance()));
        // A node that stops takes its instances with it: the others replace them (a SIGKILLed agent's
        // containers are destroyed by its next run).
        shutdown.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "stop-instances", () -> CompletableFuture.supplyAsync(() -> {
            ComponentWiring.stop(components, settings);
            return Done.getInstance();
        }));
        // Harnesses reconnect to the node's next run (or say their component is gone); stop taking frames first.
        shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "close-hub", () -> CompletableFuture.supplyAsync(() -> {
            hub.close();
            return Done.getInstance();
        }));
        // A graceful leave hands the node's replicas to the others first (bounded), then leaves the cluster.
        shutdown.addTask(CoordinatedShutdown.PhaseBeforeClusterShutdown(), "hand-off-replicas", () -> {
            if (agent.shutdownReason().filter(r -> r == CoordinatedShutdown.clusterDowningReason()).isPresent()) {
                return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
            }
            Duration limit = settings.leaveHandoffTimeout();
            LOG.info("Leaving: handing this node's replicas to the others (up to {})", limit);
            return org.apache.pekko.actor.typed.javadsl.AskPattern.<RingManager.Command, Done>ask(ringManager.get(),
                            RingManager.Drain::new, Duration.ofSeconds(5), system.scheduler())
                    .exceptionally(e -> Done.getInstance())
                    .thenCompose(d -> started.awaitHandedOff(limit))
                    .thenApply(ok -> {
                        if (ok) {
                            LOG.info("Leaving: every replica handed off");
                        } else {
                            LOG.warn("Leaving: handoff not finished within {}; the other replicas hold the data", limit);
                        }
                        return Done.getInstance();
                    });
        });
        // Logged from the shutdown itself: on SIGTERM the JVM halts as soon as its shutdown hook is done.
        shutdown.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "log-stop", () -> {
            if (agent.shutdownReason().filter(r -> r == CoordinatedShutdown.clusterDowningReason()).isPresent()) {
                LOG.error("Node {} was downed by the cluster (unreachable from the majority) and is stopping",
                        settings.name());
            } else {
                LOG.info("Node {} left the cluster and is stopping", settings.name());
            }
            return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });
        system.getWhenTerminated().thenRun(lock::close);
        return agent;
    }

    /** The names this node's certificate is for: its cluster, API and hub addresses (loopback ones with localhost). */
    static List<String> endpoints(NodeSettings s) {
        java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
        for (String h : List.of(s.cluster().host(), s.api().host(), s.hub().host())) {
            names.addAll(apiHosts(h));
        }
        return List.copyOf(names);
    }

    /** The names a client may use for {@code host}: itself, and localhost and 127.0.0.1 for a loopback address. */
    static java.util.Set<String> apiHosts(String host) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        names.add(host);
        if (host.equals("localhost") || host.startsWith("127.") || host.equals("::1")) {
            names.add("localhost");
            names.add("127.0.0.1".equals(host) || !host.startsWith("127.") ? "127.0.0.1" : host);
        }
        return names;
    }

    private static String hostInUrl(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    /** Other nodes' life-cycles as this node sees them (offline while unreachable, failed after 30 s), every second. */
    private static io.smalti.node.controller.PeerView watchPeers(ActorSystem<Void> system, ClusterMembers members) {
        io.smalti.node.controller.PeerView peers = new io.smalti.node.controller.PeerView(Duration.ofSeconds(30),
                Duration.ofMinutes(10), java.time.Clock.systemUTC());
        system.scheduler().scheduleAtFixedRate(Duration.ZERO, Duration.ofSeconds(1), () -> {
            java.util.Map<String, Boolean> seen = new java.util.HashMap<>();
            members.all().forEach((name, node) -> {
                if (!node.status().equals(org.apache.pekko.cluster.MemberStatus.removed())
                        && !node.status().equals(org.apache.pekko.cluster.MemberStatus.down())) {
                    seen.put(name, node.reachable());
                }
            });
            peers.observe(seen);
        }, system.executionContext());
        return peers;
    }

    private static Optional<Ring> loadStoredRing(RingStore store) {
        try {
            return store.load();
        } catch (IllegalStateException e) {
            LOG.warn("Ignoring the stored ring: {}", e.getMessage());
            return Optional.empty();
        }
    }

    public NodeSettings settings() {
        return settings;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public Instant startedAt() {
        return startedAt;
    }

    /**
     * Completes when the actor system has terminated (after a stop, SIGTERM, or being downed) and the node's
     * credentials service has stopped.
     */
    public CompletionStage<Done> whenTerminated() {
        return stopped;
    }

    /** Why the agent shut down, once it has: e.g. a JVM exit (SIGTERM) or the cluster downing this node. */
    public Optional<CoordinatedShutdown.Reason> shutdownReason() {
        return CoordinatedShutdown.get(system).getShutdownReason();
    }

    /** Leaves the cluster gracefully and terminates; returns when done or after {@code timeout}. */
    public void stop(Duration timeout) {
        try {
            CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason())
                    .toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            system.terminate();
        }
        try {
            stopped.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("The node did not stop cleanly: {}", rootMessage(e));
        }
        lock.close();
    }

    public void stop() {
        stop(Duration.ofSeconds(30));
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static String readVersion() {
        Properties p = new Properties();
        try (InputStream in = NodeAgent.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // fall through to "unknown"
        }
        return p.getProperty("version", "unknown");
    }
}
