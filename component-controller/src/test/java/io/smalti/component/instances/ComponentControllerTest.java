package io.smalti.component.instances;

import static io.smalti.component.testing.Futures.failure;
import static io.smalti.component.testing.Futures.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.smalti.bundle.DeveloperKey;
import io.smalti.bundle.Limits;
import io.smalti.bundle.Manifest;
import io.smalti.component.bundles.BundleRepository;
import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.component.testing.ComponentRing;
import io.smalti.ring.testing.Await;
import io.smalti.component.testing.FakeDriver;
import io.smalti.component.testing.TestBundles;
import io.smalti.container.ContainerSpec;
import io.smalti.container.ContainerState;
import io.smalti.protocol.component.InstanceStatus;
import io.smalti.protocol.component.NodeStatus;
import io.smalti.protocol.component.Placement;
import io.smalti.protocol.component.StatusChange;
import io.smalti.protocol.component.StopMark;
import io.smalti.protocol.component.TypeRecord;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * The controller and the scaler on a one-node ring, with the real instance agent running instances through an
 * in-memory driver: what an operator sees happen to types and instances.
 */
@ExtendWith(ComponentRing.Extension.class)
class ComponentControllerTest {
    private static final String NODE = ComponentRing.NODE;
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** These tests' containers run no harness that would redeem a token. */
    private static final InstanceAgent.Enrolment NO_ENROLMENT = new InstanceAgent.Enrolment() {
        @Override
        public String token(String instance) {
            return "unused-token";
        }

        @Override
        public void revoke(String instance) {
        }
    };

    private static ComponentRecords records;
    private static ExecutorService blocking;
    private static DeveloperKey key;
    private static Path base;
    private static BundleRepository bundles;
    private static FakeDriver driver;
    private static ComponentController controller;
    private static InstanceAgent agent;

    /** Types registered by the current test, unregistered after it so that they do not use the node. */
    private final List<String> registered = new ArrayList<>();

    @BeforeAll
    static void start(ComponentRing ring) throws IOException {
        records = ring.records();
        blocking = Executors.newFixedThreadPool(2);
        key = DeveloperKey.generate("tests");
        base = ring.newDir("controller");
        TestBundles.trust(base.resolve("trusted"), "tests", key);
        bundles = new BundleRepository(records, base.resolve("cache"), List.of(base.resolve("trusted")), Limits.DEFAULTS,
                blocking);
        get(records.put(ComponentKeys.drain(NODE), io.smalti.protocol.component.DrainMark.getDefaultInstance()));
        get(records.put(ComponentKeys.node(NODE), NodeStatus.newBuilder().setName(NODE).setState("available")
                .setCpus(8).setMemTotalBytes(64L << 30).setMemAvailableBytes(64L << 30).setDriver("fake").build()));
        driver = new FakeDriver();
        controller = new ComponentController(NODE, records, bundles, ring.ringView(), ring.members(),
                Duration.ofSeconds(30), Duration.ofMillis(200));
        agent = newAgent();
    }

    /** Endpoints the agent published, per instance (an empty map once removed). */
    private static final Map<String, Map<String, String>> published = new java.util.concurrent.ConcurrentHashMap<>();

    /** Instances whose health check fails, with the reason it gives. */
    private static final Map<String, String> sick = new java.util.concurrent.ConcurrentHashMap<>();

    /** Why the agent destroyed each instance's container, as its listeners (the hub) heard it. */
    private static final Map<String, String> destroyedWhy = new java.util.concurrent.ConcurrentHashMap<>();

    /** The node's instance agent; the harness of a running instance "connects" at once. */
    private static InstanceAgent newAgent() {
        InstanceAgent a = new InstanceAgent(NODE, records, bundles, driver, new InstanceAgent.HubAccess("127.0.0.1", 7443, "", NO_ENROLMENT),
                id -> driver.state(id) == ContainerState.RUNNING,
                (instance, endpoints, names) -> published.put(instance, Map.copyOf(endpoints)),
                (instance, operation, timeout) -> java.util.concurrent.CompletableFuture.completedFuture(
                        Optional.ofNullable(sick.get(instance)).map(why -> operation + " answered " + why)),
                Duration.ofSeconds(1), Duration.ofMillis(100));
        a.onDestroyed(destroyedWhy::put);
        return a;
    }

    @Test
    void anInstanceFailingItsHealthCheckIsUnavailableUntilItPassesAndReplacedAfterThreeFailures() throws Exception {
        String name = ComponentRing.newName("health");
        TestBundles.Signed b = TestBundles.sign(TestBundles.build(base, """
                {"name": "%s", "version": "1", "run": {"command": ["true"]}, "resources": {"memory": "64M"},
                 "health": {"call": "ping", "intervalSeconds": 1, "timeoutSeconds": 1}}
                """.formatted(name), Map.of()), key);
        get(bundles.store(b.archive(), b.signature()));
        TypeRecord type = get(controller.register(b.digest(), Optional.of(1))).getKey();
        registered.add(type.getId());
        String id = awaitAvailable(type.getId(), 1).get(0).id();

        sick.put(id, "DEGRADED");
        await("unavailable after a failed check", () -> instance(id).state() == InstanceState.UNAVAILABLE);
        String reason = instance(id).status().orElseThrow().getReason();
        assertTrue(reason.contains("health check 'ping' failed") && reason.contains("ping answered DEGRADED"), reason);
        sick.remove(id);
        await("available again once the check passes", () -> instance(id).state() == InstanceState.AVAILABLE);

        sick.put(id, "BROKEN");
        await("failed after three failed checks in a row", () -> instance(id).state() == InstanceState.FAILED);
        assertTrue(instance(id).status().orElseThrow().getReason().contains("(3 in a row)"),
                instance(id).status().orElseThrow().getReason());
        assertTrue(driver.state(id) != ContainerState.RUNNING, "its container is destroyed");
        assertEquals("its instance failed its health checks", destroyedWhy.get(id), "the hub is told to end its session");
        String replacement = awaitAvailable(type.getId(), 1).get(0).id();
        assertTrue(!replacement.equals(id), "a new instance replaces it");
        sick.remove(id);
    }

    @Test
    void anAvailableInstancesEndpointsArePublishedAndRemovedWhenItEnds() throws Exception {
        String name = ComponentRing.newName("endpoints");
        TestBundles.Signed b = TestBundles.sign(TestBundles.build(base, """
                {"name": "%s", "version": "1", "run": {"command": ["true"]}, "resources": {"memory": "64M"},
                 "endpoints": [{"name": "http", "port": 8080}]}
                """.formatted(name), Map.of()), key);
        get(bundles.store(b.archive(), b.signature()));
        TypeRecord type = get(controller.register(b.digest(), Optional.of(1))).getKey();
        registered.add(type.getId());
        await("an available instance", () -> live(type.getId()).stream().anyMatch(i -> i.state() == InstanceState.AVAILABLE));
        String id = live(type.getId()).get(0).id();
        await("its endpoint published", () -> Map.of("http", "10.0.0.2:8080").equals(published.get(id)));
        get(controller.scale(type.getId(), 0));
        await("its endpoint removed", () -> Map.of().equals(published.get(id)));
    }

    @AfterEach
    void unregisterThisTestsTypes() {
        for (String id : registered) {
            get(controller.unregister(id));
        }
        for (String id : registered) {
            await("the instances of " + id + " to end", () -> instances(id).stream().allMatch(i -> !i.live()
                    && i.state() != InstanceState.STOPPING && i.state() != InstanceState.DESTROYING));
        }
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
        if (controller != null) {
            controller.close();
        }
        blocking.shutdownNow();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        Await.until(what, WAIT, () -> {}, condition);
    }

    /** Pushes a fresh bundle named {@code name} and registers its type. */
    private TypeRecord register(String name) throws IOException {
        TestBundles.Signed b = TestBundles.simple(base, key, name, "64M");
        assertTrue(get(bundles.store(b.archive(), b.signature())).created());
        Map.Entry<TypeRecord, Boolean> r = get(controller.register(b.digest(), Optional.empty()));
        assertTrue(r.getValue(), "a new type");
        registered.add(r.getKey().getId());
        return r.getKey();
    }

    private static List<InstanceView> instances(String typeId) {
        return get(controller.instancesOf(typeId));
    }

    private static InstanceView instance(String id) {
        return get(controller.instance(id)).orElseThrow(() -> new AssertionError("no instance " + id));
    }

    private static List<InstanceView> live(String typeId) {
        return instances(typeId).stream().filter(InstanceView::live).toList();
    }

    /** Waits until the type has exactly {@code count} live instances, all available; returns them. */
    private static List<InstanceView> awaitAvailable(String typeId, int count) {
        await(count + " available instances of " + typeId, () -> {
            List<InstanceView> l = live(typeId);
            return l.size() == count && l.stream().allMatch(i -> i.state() == InstanceState.AVAILABLE);
        });
        return live(typeId);
    }

    private static void awaitState(String id, InstanceState state) {
        await("instance " + id + " to be " + state.text(), () -> instance(id).state() == state);
    }

    private static List<String> history(InstanceView i) {
        return i.status().orElseThrow().getHistoryList().stream().map(StatusChange::getState).toList();
    }

    /** True when {@code states} appear in this order (not necessarily adjacent) in the list. */
    private static boolean inOrder(List<String> list, String... states) {
        int at = 0;
        for (String s : list) {
            if (at < states.length && s.equals(states[at])) {
                at++;
            }
        }
        return at == states.length;
    }

    private static int desired(String typeId) {
        return get(controller.type(typeId)).getDesired();
    }

    /** Checks for a while (several scaler rounds) that the condition keeps holding. */
    private static void staysTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 8; i++) {
            assertTrue(condition.getAsBoolean(), what);
            Thread.sleep(150);
        }
    }

    // ---- tests -----------------------------------------------------------------------------------

    @Test
    void registeringAndScalingUpStartsAvailableInstances() throws IOException {
        String name = ComponentRing.newName("up");
        TypeRecord type = register(name);
        assertEquals(0, type.getDesired(), "a new type wants no instances yet");
        assertEquals(name, type.getName());
        assertEquals(ComponentController.typeId(type.getBundle()), type.getId());
        assertEquals(3, get(controller.scale(type.getId(), 3)).getDesired());

        List<InstanceView> running = awaitAvailable(type.getId(), 3);
        for (InstanceView i : running) {
            assertEquals(NODE, i.placement().getNode());
            assertEquals(type.getId(), i.placement().getType());
            assertEquals(Placement.Goal.RUN, i.placement().getGoal());
            assertTrue(inOrder(history(i), "preparing", "initializing", "available"), history(i).toString());
            InstanceStatus s = i.status().orElseThrow();
            assertEquals(NODE, s.getNode());
            assertEquals("fake", s.getDriver());
            assertEquals("10.0.0.2", s.getAddress());
            ContainerSpec spec = driver.spec(i.id()).orElseThrow();
            assertEquals(name, spec.manifest().name());
            assertEquals(Map.of("SMALTI_TYPE", type.getId(), "SMALTI_NODE", NODE), spec.environment());
            assertEquals("hello from " + name, Files.readString(spec.bundleRoot().resolve("app/hello.txt")),
                    "the container gets the extracted bundle");
        }
        assertTrue(get(controller.placedOn(NODE)).containsAll(running.stream().map(InstanceView::id).toList()));
        await("usage reported", () -> live(type.getId()).stream().allMatch(i -> i.status().orElseThrow().getHasUsage()
                && i.status().orElseThrow().getMemoryBytes() == 32L << 20));
        for (InstanceView i : running) {
            assertEquals(1, driver.starts(i.id()), "started once");
        }
        Map.Entry<TypeRecord, Boolean> again = get(controller.register(type.getBundle(), Optional.empty()));
        assertFalse(again.getValue(), "registering a bundle twice names the same type");
        assertEquals(type.getId(), again.getKey().getId());
        assertEquals(3, again.getKey().getDesired(), "and keeps its desired count");
        ComponentController.TypeView view = get(controller.types()).stream()
                .filter(v -> v.type().getId().equals(type.getId())).findFirst().orElseThrow();
        assertEquals(3, view.instances());
        assertEquals(3, view.available());
        assertTrue(get(controller.instances()).stream().map(InstanceView::id).toList()
                .containsAll(running.stream().map(InstanceView::id).toList()));
    }

    @Test
    void scalingDownStopsAndDestroysTheNewestExtras() throws Exception {
        TypeRecord type = register(ComponentRing.newName("down"));
        get(controller.scale(type.getId(), 3));
        awaitAvailable(type.getId(), 3);

        assertEquals(1, get(controller.scale(type.getName(), 1)).getDesired(), "scaled by name");
        await("two instances destroyed", () -> instances(type.getId()).stream()
                .filter(i -> i.state() == InstanceState.DESTROYED).count() == 2);
        List<InstanceView> all = instances(type.getId());
        List<InstanceView> gone = all.stream().filter(i -> i.state() == InstanceState.DESTROYED).toList();
        List<InstanceView> kept = all.stream().filter(InstanceView::live).toList();
        assertEquals(1, kept.size());
        assertEquals(InstanceState.AVAILABLE, kept.get(0).state());
        for (InstanceView i : gone) {
            assertEquals(Placement.Goal.TERMINATE, i.placement().getGoal());
            assertEquals("scaled down to 1", i.placement().getReason());
            assertTrue(inOrder(history(i), "available", "stopping", "destroying", "destroyed"), history(i).toString());
            assertEquals("scaled down to 1", i.status().orElseThrow().getReason());
            assertTrue(driver.wasStopped(i.id()), "stopped politely");
            assertTrue(driver.wasDestroyed(i.id()));
            assertEquals(ContainerState.ABSENT, driver.state(i.id()));
            assertTrue(kept.get(0).placement().getCreatedAtMillis() <= i.placement().getCreatedAtMillis(),
                    "the oldest instance is kept");
        }
        assertFalse(driver.wasStopped(kept.get(0).id()));
        staysTrue("one instance keeps running, nothing replaces the others", () -> {
            List<InstanceView> now = instances(type.getId());
            return now.size() == 3 && now.stream().filter(InstanceView::live).count() == 1;
        });
    }

    @Test
    void aCrashedContainerFailsItsInstanceAndIsReplaced() throws Exception {
        TypeRecord type = register(ComponentRing.newName("crash"));
        get(controller.scale(type.getId(), 2));
        List<InstanceView> before = awaitAvailable(type.getId(), 2);
        String victim = before.get(0).id();

        driver.crash(victim);
        awaitState(victim, InstanceState.FAILED);
        InstanceView failed = instance(victim);
        assertEquals("its container ended (stopped)", failed.status().orElseThrow().getReason());
        assertFalse(failed.live());
        await("the crashed container to be cleaned up", () -> driver.wasDestroyed(victim));

        List<InstanceView> after = awaitAvailable(type.getId(), 2);
        assertFalse(after.stream().anyMatch(i -> i.id().equals(victim)), "a replacement, not the crashed one");
        assertTrue(after.stream().anyMatch(i -> i.id().equals(before.get(1).id())), "the other one ran on");
        assertEquals(2, desired(type.getId()), "the desired count does not change");
        staysTrue("no further replacements", () -> instances(type.getId()).size() == 3);
        assertEquals(InstanceState.FAILED, instance(victim).state(), "the failed instance stays listed as failed");
    }

    @Test
    void terminatingAnInstanceLowersTheDesiredCount() throws Exception {
        TypeRecord type = register(ComponentRing.newName("terminate"));
        get(controller.scale(type.getId(), 3));
        List<InstanceView> running = awaitAvailable(type.getId(), 3);
        String polite = running.get(0).id();
        String forced = running.get(1).id();

        InstanceView answer = get(controller.terminate(polite, false));
        assertEquals(Placement.Goal.TERMINATE, answer.placement().getGoal());
        assertEquals("terminated by an operator", answer.placement().getReason());
        awaitState(polite, InstanceState.DESTROYED);
        assertTrue(inOrder(history(instance(polite)), "available", "stopping", "destroying", "destroyed"),
                history(instance(polite)).toString());
        assertTrue(driver.wasStopped(polite) && driver.wasDestroyed(polite));
        assertEquals(2, desired(type.getId()));

        get(controller.terminate(forced, true));
        awaitState(forced, InstanceState.DESTROYED);
        List<String> h = history(instance(forced));
        assertFalse(h.contains("stopping"), "forced: no polite stop " + h);
        assertTrue(inOrder(h, "available", "destroying", "destroyed"), h.toString());
        assertFalse(driver.wasStopped(forced));
        assertTrue(driver.wasDestroyed(forced));
        assertEquals(1, desired(type.getId()));

        staysTrue("neither is replaced", () -> {
            List<InstanceView> now = instances(type.getId());
            return now.size() == 3 && now.stream().filter(InstanceView::live).count() == 1;
        });
        assertEquals(running.get(2).id(), live(type.getId()).get(0).id());
    }

    @Test
    void unregisteringATypeDestroysAllItsInstances() throws Exception {
        String name = ComponentRing.newName("unregister");
        TypeRecord type = register(name);
        get(controller.scale(name, 2));
        List<InstanceView> running = awaitAvailable(type.getId(), 2);

        TypeRecord gone = get(controller.unregister(name));
        assertTrue(gone.getUnregistered());
        assertEquals(0, gone.getDesired());
        for (InstanceView i : running) {
            awaitState(i.id(), InstanceState.DESTROYED);
            assertEquals("its type was unregistered", instance(i.id()).placement().getReason());
            assertTrue(driver.wasDestroyed(i.id()));
        }
        NoSuchElementException e = failure(NoSuchElementException.class, controller.type(name));
        assertEquals("no component type is named " + name, e.getMessage());
        ComponentController.TypeView view = get(controller.types()).stream()
                .filter(v -> v.type().getId().equals(type.getId())).findFirst().orElseThrow();
        assertTrue(view.type().getUnregistered(), "still listed, marked unregistered");
        assertEquals(0, view.instances());
        staysTrue("nothing new starts", () -> live(type.getId()).isEmpty());

        // registering the bundle again makes the type new again
        Map.Entry<TypeRecord, Boolean> again = get(controller.register(type.getBundle(), Optional.of(1)));
        assertTrue(again.getValue());
        assertFalse(again.getKey().getUnregistered());
        assertEquals(type.getId(), again.getKey().getId());
        awaitAvailable(type.getId(), 1);
    }

    @Test
    void aDrainedNodeGetsNoNewInstances() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(ComponentController.class);
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        warnings.start();
        log.addAppender(warnings);
        String name = ComponentRing.newName("drain");
        try {
            TypeRecord type = register(name);
            get(controller.scale(type.getId(), 1));
            InstanceView first = awaitAvailable(type.getId(), 1).get(0);

            get(controller.drain(NODE, true, "maintenance"));
            assertTrue(get(controller.drained(NODE)));
            get(controller.create(type.getId(), 2));
            staysTrue("nothing is placed on the drained node", () -> instances(type.getId()).size() == 1);
            await("a warning saying why", () -> warnings.list.stream().anyMatch(e ->
                    e.getFormattedMessage().equals("Cannot place an instance of " + name + ": " + NODE + ": takes no instances")));
            assertEquals(InstanceState.AVAILABLE, instance(first.id()).state(),
                    "with nowhere to move it, the instance on the drained node keeps running");
            assertEquals(Placement.Goal.RUN, instance(first.id()).placement().getGoal());

            get(controller.drain(NODE, false, ""));
            assertFalse(get(controller.drained(NODE)));
            List<InstanceView> now = awaitAvailable(type.getId(), 3);
            assertTrue(now.stream().anyMatch(i -> i.id().equals(first.id())));
        } finally {
            get(controller.drain(NODE, false, ""));
            log.detachAppender(warnings);
        }
    }

    @Test
    void aNodeAboutToStopGetsNoNewInstancesAndKeepsItsOwnUntilItStops() throws Exception {
        String name = ComponentRing.newName("stopping");
        try {
            TypeRecord type = register(name);
            get(controller.scale(type.getId(), 1));
            InstanceView first = awaitAvailable(type.getId(), 1).get(0);

            get(controller.markStopping(NODE, true, "cluster down"));
            get(controller.create(type.getId(), 2));
            staysTrue("nothing is placed on a node about to stop", () -> instances(type.getId()).size() == 1);
            // Unlike a drained node's, its instances are not moved away: the stop takes them.
            assertEquals(InstanceState.AVAILABLE, instance(first.id()).state());
            assertEquals(Placement.Goal.RUN, instance(first.id()).placement().getGoal());

            get(controller.markStopping(NODE, false, "started again"));
            assertEquals(3, awaitAvailable(type.getId(), 3).size());
        } finally {
            get(controller.markStopping(NODE, false, ""));
        }
    }

    @Test
    void aStopMarkThatNoStopFollowedExpires() {
        long now = 1_000_000_000L;
        StopMark fresh = StopMark.newBuilder().setAtMillis(now - 1000).build();
        StopMark stale = StopMark.newBuilder().setAtMillis(now - ComponentController.STOP_MARK_TTL.toMillis()).build();
        assertTrue(ComponentController.stopsSoon(fresh, now));
        assertFalse(ComponentController.stopsSoon(stale, now));
        assertFalse(ComponentController.stopsSoon(StopMark.getDefaultInstance(), now), "0: withdrawn");
    }

    @Test
    void createAddsInstancesByTypeName() throws IOException {
        String name = ComponentRing.newName("create");
        TypeRecord type = register(name);
        assertEquals(2, get(controller.create(name, 2)).getDesired());
        awaitAvailable(type.getId(), 2);
        assertEquals(3, get(controller.create(type.getId(), 1)).getDesired(), "or by id");
        awaitAvailable(type.getId(), 3);
        assertEquals(3, get(controller.type(type.getId().toUpperCase())).getDesired(), "ids in any case");

        assertEquals("\"count\" must be a whole number from 1 to 1000, got 0",
                failure(IllegalArgumentException.class, controller.create(name, 0)).getMessage());
        assertEquals("type " + name + " wants 3 instances; 998 more would be 1001, more than 1000",
                failure(IllegalArgumentException.class, controller.create(name, 998)).getMessage());
        assertEquals("\"count\" must be a whole number from 0 to 1000, got -1",
                failure(IllegalArgumentException.class, controller.scale(name, -1)).getMessage());
        assertEquals("\"count\" must be a whole number from 0 to 1000, got 1001",
                failure(IllegalArgumentException.class, controller.scale(name, 1001)).getMessage());
        // Registering again with -1 was once accepted, and the scaler then terminated every instance of the type.
        assertEquals("\"count\" must be a whole number from 0 to 1000, got -1", failure(IllegalArgumentException.class,
                controller.register(type.getBundle(), Optional.of(-1))).getMessage());
        assertEquals(3, desired(type.getId()), "refused calls change nothing");
    }

    @Test
    void twoTypesOfOneNameMustBeNamedById() throws IOException {
        String name = ComponentRing.newName("twice");
        TypeRecord one = register(name);
        TestBundles.Signed v2 = TestBundles.sign(TestBundles.build(base, TestBundles.manifest(name, "2.0", "64M"),
                Map.of()), key);
        get(bundles.store(v2.archive(), v2.signature()));
        TypeRecord two = get(controller.register(v2.digest(), Optional.empty())).getKey();
        registered.add(two.getId());
        assertNotEquals(one.getId(), two.getId());
        IllegalArgumentException e = failure(IllegalArgumentException.class, controller.scale(name, 1));
        assertTrue(e.getMessage().startsWith("several types are named " + name + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(one.getId() + " (1.0)") && e.getMessage().contains(two.getId() + " (2.0)"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("; give an id"), e.getMessage());
        assertEquals(1, get(controller.scale(two.getId(), 1)).getDesired());
    }

    @Test
    void aTypeWithAFortyCharacterNameCanBeNamed() throws IOException {
        String name = ComponentRing.newName("forty-characters-long-name");
        name = (name + "-".repeat(40)).substring(0, 39) + "x";
        assertEquals(40, name.length());
        TypeRecord type = register(name);
        assertEquals(type.getId(), get(controller.type(name)).getId(),
                "a valid bundle name of 40 characters is a name, not an id");
    }

    @Test
    void unknownTypesAndInstancesAreNamedInTheError() {
        String unknownId = "00" + "1".repeat(38);
        String unknownType = io.smalti.ring.id.Id.random(io.smalti.ring.id.Category.TYPE, new java.util.Random(7)).toString();
        assertEquals("no component type is named no-such-type",
                failure(NoSuchElementException.class, controller.scale("no-such-type", 1)).getMessage());
        assertEquals("no component type is named no-such-type",
                failure(NoSuchElementException.class, controller.create("no-such-type", 1)).getMessage());
        assertEquals("no component type is named no-such-type",
                failure(NoSuchElementException.class, controller.unregister("no-such-type")).getMessage());
        assertEquals("no component type " + unknownType,
                failure(NoSuchElementException.class, controller.scale(unknownType, 1)).getMessage());
        assertEquals("no component type " + unknownType,
                failure(NoSuchElementException.class, controller.type(unknownType)).getMessage());
        // Forty characters that are not a type id are a name.
        assertEquals("no component type is named " + unknownId,
                failure(NoSuchElementException.class, controller.type(unknownId)).getMessage());
        assertEquals("no instance " + unknownId,
                failure(NoSuchElementException.class, controller.terminate(unknownId, false)).getMessage());
        assertEquals("no instance " + unknownId,
                failure(NoSuchElementException.class, controller.terminate(unknownId, true)).getMessage());
        assertEquals(Optional.empty(), get(controller.instance(unknownId)));
        String digest = "ab".repeat(32);
        assertEquals("no bundle " + digest + " is stored; push it first",
                failure(NoSuchElementException.class, controller.register(digest, Optional.of(1))).getMessage());
        assertEquals(Set.of(), Set.copyOf(get(controller.instancesOf(unknownId))));
    }

    @Test
    void instancesOfALostNodeAreReplaced() throws Exception {
        TypeRecord type = register(ComponentRing.newName("lost"));
        // An instance the scaler once placed on a node that has since left the cluster.
        String ghost = Id.random(Category.INSTANCE, ThreadLocalRandom.current()).toString();
        long now = System.currentTimeMillis();
        get(records.put(ComponentKeys.status(ghost), InstanceStatus.newBuilder().setState("available").setNode("gone")
                .setSinceMillis(now).build()));
        get(records.put(ComponentKeys.placement(ghost), Placement.newBuilder().setId(ghost).setType(type.getId())
                .setNode("gone").setCreatedAtMillis(now).setGoal(Placement.Goal.RUN).build()));
        get(records.add(ComponentKeys.placed("gone"), ghost));
        get(records.add(ComponentKeys.instances(type.getId()), ghost));
        get(controller.scale(type.getId(), 1));

        awaitState(ghost, InstanceState.FAILED);
        InstanceView lost = instance(ghost);
        assertEquals("node gone lost", lost.status().orElseThrow().getReason());
        assertEquals(Placement.Goal.DESTROY, lost.placement().getGoal());
        InstanceView replacement = awaitAvailable(type.getId(), 1).get(0);
        assertNotEquals(ghost, replacement.id());
        assertEquals(NODE, replacement.placement().getNode());
        assertFalse(driver.wasStarted(ghost), "this node does not run what was placed elsewhere");
    }

    @Test
    void aRestartedAgentAdoptsRunningContainers() throws Exception {
        TypeRecord type = register(ComponentRing.newName("adopt"));
        get(controller.scale(type.getId(), 2));
        List<InstanceView> running = awaitAvailable(type.getId(), 2);
        agent.close();
        agent = newAgent();
        staysTrue("both keep running, adopted rather than started again", () -> {
            List<InstanceView> now = live(type.getId());
            return now.size() == 2 && now.stream().allMatch(i -> i.state() == InstanceState.AVAILABLE);
        });
        for (InstanceView i : running) {
            assertEquals(1, driver.starts(i.id()), "started once");
            assertEquals(ContainerState.RUNNING, driver.state(i.id()));
        }
        // and the new agent follows the placements: scaling down stops one
        get(controller.scale(type.getId(), 1));
        await("one destroyed", () -> instances(type.getId()).stream().filter(i -> i.state() == InstanceState.DESTROYED).count() == 1);
    }

    @Test
    void anInstanceWhoseContainerIsGoneAfterARestartFailsAndIsReplaced() throws Exception {
        TypeRecord type = register(ComponentRing.newName("restart"));
        get(controller.scale(type.getId(), 1));
        InstanceView before = awaitAvailable(type.getId(), 1).get(0);
        agent.close();
        driver.vanish(before.id());
        agent = newAgent();
        awaitState(before.id(), InstanceState.FAILED);
        assertTrue(instance(before.id()).status().orElseThrow().getReason().contains("its container was gone"));
        InstanceView replacement = awaitAvailable(type.getId(), 1).get(0);
        assertNotEquals(before.id(), replacement.id());
        assertEquals(1, driver.starts(before.id()), "the failed one is not started again");
    }

    @Test
    void containersNobodyPlacedHereAreDestroyed() throws Exception {
        String stray = Id.random(Category.INSTANCE, ThreadLocalRandom.current()).toString();
        Manifest manifest = Manifest.parse(TestBundles.manifest("stray", "1", "64M").getBytes(StandardCharsets.UTF_8));
        driver.start(new ContainerSpec(stray, base, manifest, "127.0.0.1", 7443, "", "token", Map.of(), null));
        assertEquals(ContainerState.RUNNING, driver.state(stray));
        await("the stray container to be destroyed", () -> driver.wasDestroyed(stray));
        assertEquals(ContainerState.ABSENT, driver.state(stray));
        assertEquals(Optional.empty(), get(controller.instance(stray)));
    }

    @Test
    void anUnregisteredTypeCannotBeScaledById() throws IOException {
        TypeRecord type = register(ComponentRing.newName("unregistered"));
        get(controller.unregister(type.getId()));
        assertTrue(failure(IllegalArgumentException.class, controller.scale(type.getId(), 2)).getMessage()
                .contains("is unregistered; register its bundle again"));
        assertTrue(failure(IllegalArgumentException.class, controller.create(type.getId(), 1)).getMessage()
                .contains("is unregistered"));
    }

    @Test
    void anInstanceThatCannotStartFails() throws Exception {
        String name = ComponentRing.newName("refused");
        driver.refuse(name);
        TypeRecord type = register(name);
        get(controller.scale(type.getId(), 1));
        await("a failed instance", () -> instances(type.getId()).stream().anyMatch(i -> i.state() == InstanceState.FAILED));
        InstanceView failed = instances(type.getId()).stream().filter(i -> i.state() == InstanceState.FAILED)
                .findFirst().orElseThrow();
        assertEquals("cannot start: the fake driver refuses " + name, failed.status().orElseThrow().getReason());
        assertTrue(driver.wasDestroyed(failed.id()), "what a failed start left is destroyed");
        assertTrue(failed.state().ended());
    }
}
