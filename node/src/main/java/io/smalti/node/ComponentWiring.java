package io.smalti.node;

import com.google.protobuf.ByteString;
import com.typesafe.config.Config;
import io.smalti.component.Components;
import io.smalti.component.instances.InstanceAgent;
import io.smalti.container.Confinement;
import io.smalti.container.ContainerDriver;
import io.smalti.container.ContainerDrivers;
import io.smalti.container.ContainerSettings;
import io.smalti.container.NetworkMode;
import io.smalti.container.Subnet;
import io.smalti.container.lxc.LxcDriver;
import io.smalti.container.net.Bridge;
import io.smalti.container.process.ProcessDriver;
import io.smalti.hub.Hub;
import io.smalti.node.controller.NodeLifecycle;
import io.smalti.protocol.hub.AttributeTarget;
import io.smalti.protocol.hub.Call;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Result;
import io.smalti.protocol.hub.Target;
import io.smalti.protocol.hub.UpdateAttributes;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.vnode.VnodeClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Reads {@code smalti.components} and starts the container driver and the component agents of a node. */
final class ComponentWiring {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ComponentWiring.class);

    private ComponentWiring() {}

    /** The node's container driver settings from {@code smalti.components} (no archive option yet). */
    static ContainerSettings containerSettings(NodeSettings settings) {
        Config c = settings.config().getConfig("smalti.components");
        String network = c.getString("network").toLowerCase(Locale.ROOT);
        if (!List.of("bridge", "host").contains(network)) {
            throw new IllegalArgumentException("smalti.components.network must be bridge or host, not '" + network + "'");
        }
        String hubHost = settings.hub().host();
        String cidr = c.getString("subnet").isBlank() ? defaultSubnet(hubHost) : c.getString("subnet");
        String bridge = c.getString("bridge").isBlank() ? ContainerSettings.defaultBridgeName(settings.name()) : c.getString("bridge");
        NetworkMode mode = network.equals("host") ? NetworkMode.HOST : NetworkMode.BRIDGE;
        List<String> harnessOptions = c.getStringList("harness-jvm-options");
        return ContainerSettings.defaults(settings.name(), settings.dataDir().resolve("containers"),
                        harnessOptions.isEmpty() ? ContainerSettings.DEFAULT_JVM_OPTIONS : harnessOptions)
                .withNetwork(mode, bridge, cidr)
                .withHubHostForHostMode(hubHost)
                .withConfinement(confinement(c, cidr))
                .withHubLease(c.getDuration("hub-lease"));
    }

    /** What one bundle may extract to, from {@code smalti.components.bundles}. */
    static io.smalti.bundle.Limits bundleLimits(Config components) {
        Config b = components.getConfig("bundles");
        long entries = b.getLong("max-entries");
        if (entries < 1 || entries > 1_000_000) {
            throw new IllegalArgumentException("smalti.components.bundles.max-entries must be 1..1000000, got " + entries);
        }
        long total = positiveBytes(b, "max-unpacked-size");
        long file = positiveBytes(b, "max-file-size");
        return new io.smalti.bundle.Limits((int) entries, file, total);
    }

    /** The largest bundle archive a push may send, from {@code smalti.components.bundles.max-size}. */
    static long maxBundleBytes(Config components) {
        return positiveBytes(components.getConfig("bundles"), "max-size");
    }

    private static long positiveBytes(Config bundles, String key) {
        long v = bundles.getBytes(key);
        if (v < 1) {
            throw new IllegalArgumentException("smalti.components.bundles." + key + " must be at least 1 byte, got " + v);
        }
        return v;
    }

    /** The driver {@code smalti.components.driver} names, for these settings. */
    static ContainerDriver driver(NodeSettings settings, ContainerSettings cs) {
        String driverName = settings.config().getString("smalti.components.driver").toLowerCase(Locale.ROOT);
        return switch (driverName) {
            case "lxc" -> new LxcDriver(cs);
            case "process" -> new ProcessDriver(cs);
            case "auto" -> ContainerDrivers.create(cs);
            default -> throw new IllegalArgumentException("smalti.components.driver must be auto, lxc or process, not '"
                    + driverName + "'");
        };
    }

    static Components start(org.apache.pekko.actor.typed.ActorSystem<?> system, NodeSettings settings, VnodeClient client,
                            RingView ringView, ClusterMembers members, Hub hub, InstanceAgent.Enrolment enrolment) {
        Config c = settings.config().getConfig("smalti.components");
        ContainerSettings cs = containerSettings(settings);
        String hubHost = settings.hub().host();
        String cidr = cs.subnet();
        String bridge = cs.bridgeName();
        NetworkMode mode = cs.networkMode();
        // Harnesses map their classes from an archive one harness run makes (in the background, once).
        Path archive = HarnessArchive.path(settings.dataDir().resolve("harness-cds"), cs);
        List<String> options = new ArrayList<>(cs.jvmOptions());
        options.add("-XX:SharedArchiveFile=" + archive);
        ContainerSettings plain = cs;
        cs = cs.withHarness(cs.javaExecutable(), cs.harnessClasspath(), options);
        Thread maker = new Thread(() -> HarnessArchive.ensure(archive, plain, hubHost, hub.port(), hub.certificatePem(),
                enrolment), "harness-archive");
        maker.setDaemon(true);
        maker.start();
        ContainerDriver driver = driver(settings, cs);
        if (driver.name().equals("lxc") && mode == NetworkMode.BRIDGE) {
            Subnet subnet = Subnet.parse(cidr);
            Bridge.ensure(bridge, subnet);
            hub.listenAlso(subnet.gateway());
            LOG.info("Containers get addresses in {} on bridge {}; the hub listens on {} for them", cidr, bridge, subnet.gateway());
        }
        List<Path> trusted = new ArrayList<>();
        trusted.add(settings.dataDir().resolve("trusted-keys"));
        c.getStringList("trusted-keys").forEach(k -> trusted.add(Path.of(k)));
        // The agent's round reads no ring record unless a change was announced (ComponentChanges): what is left
        // is the containers' liveness. Every 250 ms it cost an idle node with 3-4 instances 0.5 % of a core; at
        // 500 ms a container that ends is failed within about a second.
        Components.Settings s = new Components.Settings(settings.dataDir(), trusted, c.getDuration("lost-after"),
                c.getDuration("terminate-grace"), Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(5),
                bundleLimits(c), maxBundleBytes(c));
        LOG.info("Component instances run on the {} driver{}", driver.name(), driver.isolates() ? "" : " (NO isolation)");
        Components components = Components.start(s, settings.name(), client, ringView, members, driver,
                new InstanceAgent.HubAccess(hubHost, hub.port(), hub.certificatePem(), enrolment), hub.router()::isConnected,
                (instance, endpoints, names) -> publishEndpoints(hub, instance, endpoints, names),
                (instance, operation, timeout) -> checkHealth(hub, instance, operation, timeout),
                new NodeLifecycle(Duration.ofSeconds(30)));
        // Records another node acts on are announced when written here (this node's agent and scaler already
        // react to its own writes); an announcement of another node's write runs this node's scaler, or agent
        // for a placement, at once: neither polls the ring to find changes (see ComponentChanges).
        ComponentChanges changes = ComponentChanges.start(system, components.controller()::poke,
                components.agent()::refresh);
        components.records().onWritten(key -> {
            if (io.smalti.component.records.ComponentKeys.actedOn(key)) {
                changes.bump(io.smalti.component.records.ComponentKeys.placing(key));
            }
        });
        // A harness that connects makes its instance available now, not at the agent's next round.
        hub.router().onOpened(component -> components.agent().poke());
        // A destroyed container's connection may not close by itself for minutes: end its session now.
        components.agent().onDestroyed((instance, why) -> hub.router().disconnect(instance, why));
        return components;
    }

    /** An instance's endpoints as hub attributes of the instance: {@code endpoint.<name>} = {@code host:port}. */
    private static void publishEndpoints(Hub hub, String instance, java.util.Map<String, String> endpoints,
                                         java.util.Set<String> names) {
        var update = UpdateAttributes.newBuilder().setTarget(AttributeTarget.newBuilder().setComponent(instance));
        for (String name : names) {
            String value = endpoints.get(name);
            if (value == null) {
                update.addRemove("endpoint." + name);
            } else {
                update.putSet("endpoint." + name, ByteString.copyFromUtf8(value));
            }
        }
        hub.request(Frame.newBuilder().setUpdateAttributes(update).build()).whenComplete((f, e) -> {
            if (e != null || f.hasError()) {
                LOG.warn("Cannot publish the endpoints of instance {}: {}", instance, e != null ? e.getMessage() : f.getError().getMessage());
            }
        });
    }

    /** An instance's health check: its operation called through this node's hub, with no input. */
    private static CompletionStage<Optional<String>> checkHealth(Hub hub, String instance, String operation,
                                                                Duration timeout) {
        Frame call = Frame.newBuilder().setTimeoutMs((int) timeout.toMillis())
                .setCall(Call.newBuilder().setOperation(operation).setTarget(Target.newBuilder().setComponent(instance)))
                .build();
        return hub.request(call).thenApply(f -> {
            if (f.hasError()) {
                return Optional.of(f.getError().getCode() + ": " + f.getError().getMessage());
            }
            if (f.getReply().getResultsCount() == 0) {
                return Optional.of("no answer");
            }
            Result result = f.getReply().getResults(0);
            return result.hasError() ? Optional.of(result.getError().getCode() + ": " + result.getError().getMessage())
                    : Optional.<String>empty();
        });
    }

    /**
     * A node that stops takes its instances with it (the others replace them; a SIGKILLed agent's containers
     * are destroyed by its next run): stops the agents, then stops and destroys every container at once, each
     * with a short grace, and removes the bridge.
     */
    static void stop(Components components, NodeSettings settings) {
        // First of all: no new instance is placed here (`cluster down` marked every node already).
        try {
            components.controller().markStopping(settings.name(), true, "node " + settings.name() + " is stopping")
                    .toCompletableFuture().get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Cannot announce this node's stop (new instances may still be placed here): {}", e.toString());
        }
        components.close();
        ContainerDriver driver = components.agent().driver();
        destroyAll(driver);
        // A start that finished while the others were destroyed: destroyed too, not left running.
        destroyAll(driver);
        boolean lxc = driver.name().equals("lxc");
        driver.close();
        if (lxc) {
            removeBridge(settings);
        }
    }

    /** Stops (short grace) and destroys every container the driver lists, all at once. */
    static void destroyAll(ContainerDriver driver) {
        List<String> left = driver.list();
        if (left.isEmpty()) {
            return;
        }
        ExecutorService stoppers = Executors.newFixedThreadPool(
                Math.max(1, Math.min(16, left.size())));
        List<CompletableFuture<Void>> stops = left.stream()
                .map(id -> CompletableFuture.runAsync(() -> {
                    try {
                        driver.stop(id, Duration.ofSeconds(2));
                        driver.destroy(id);
                    } catch (RuntimeException e) {
                        LOG.warn("Cannot destroy instance {}: {}", id, e.getMessage());
                    }
                }, stoppers)).toList();
        CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
        stoppers.shutdown();
        LOG.info("Destroyed this node's {} instance(s)", left.size());
    }

    /**
     * Container ids from {@code container-ids-start}, or by default from the slot of the subnet's third byte, which
     * differs between the nodes of a local cluster as their subnets do; the mount allow-list as configured.
     */
    static Confinement confinement(Config c, String cidr) {
        int start = c.getInt("container-ids-start");
        if (start == 0) {
            start = Confinement.idStartOfSlot((Subnet.parse(cidr).network() >>> 8) & 0xff);
        }
        List<Path> allowed = c.getStringList("mount-allow").stream().map(Path::of).toList();
        for (Path p : allowed) {
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("smalti.components.mount-allow: " + p + " is not an absolute path");
            }
        }
        return new Confinement(start, Confinement.ID_COUNT, allowed);
    }

    /** Removes this node's container bridge when no container uses it any more (after the node destroyed its own). */
    static void removeBridge(NodeSettings settings) {
        String bridge = containerSettings(settings).bridgeName();
        try {
            if (Bridge.exists(bridge) && Bridge.deleteIfUnused(bridge)) {
                LOG.info("Removed the container bridge {}", bridge);
            }
        } catch (RuntimeException e) {
            LOG.warn("Cannot remove the container bridge {}: {}", bridge, e.getMessage());
        }
    }

    /** 10.201.x.0/24 for a hub on 127.0.0.x, so the nodes of a local cluster do not share a subnet. */
    static String defaultSubnet(String hubHost) {
        String[] parts = hubHost.split("\\.");
        if (parts.length == 4 && parts[0].equals("127")) {
            try {
                int x = Integer.parseInt(parts[3]);
                if (x >= 1 && x <= 254) {
                    return "10.201." + x + ".0/24";
                }
            } catch (NumberFormatException ignored) {
                // not a dotted address
            }
        }
        return "10.201.1.0/24";
    }
}
