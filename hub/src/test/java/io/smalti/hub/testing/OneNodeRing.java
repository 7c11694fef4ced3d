package io.smalti.hub.testing;

import io.smalti.hub.records.HubRecords;
import io.smalti.hub.records.HubService;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import io.smalti.ring.testing.OneNodeCluster;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A one-node ring running the hub service: started once for the whole test run (the first test class that
 * asks for it) and stopped when the run ends. Test classes take it as a parameter
 * ({@code @BeforeAll static void start(OneNodeRing ring)}) with {@code @ExtendWith(OneNodeRing.Extension.class)};
 * they share it, so they use fresh ids and group names.
 */
public final class OneNodeRing implements AutoCloseable {
    public static final String NODE = OneNodeCluster.NODE;

    private final OneNodeCluster cluster;
    private final HubRecords records;

    private OneNodeRing(OneNodeCluster cluster, HubRecords records) {
        this.cluster = cluster;
        this.records = records;
    }

    public HubRecords records() {
        return records;
    }

    /** A fresh component id (an instance id at a random place on the ring), in its lower-case text form. */
    public static String newComponent() {
        return Id.random(Category.INSTANCE, ThreadLocalRandom.current()).toString();
    }

    /** A fresh group name. */
    public static String newGroup(String hint) {
        return hint + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    static OneNodeRing start() throws Exception {
        OneNodeCluster cluster = OneNodeCluster.start("hub", clock -> List.of(new HubService(NODE, clock)));
        HubRecords records = new HubRecords(cluster.client());
        cluster.awaitWritable(() -> records.addWatcher("watchers/" + newComponent(), "warm-up")
                .toCompletableFuture().get(5, TimeUnit.SECONDS));
        return new OneNodeRing(cluster, records);
    }

    @Override
    public void close() throws IOException {
        cluster.close();
    }

    /** Resolves {@link OneNodeRing} parameters with the run's one ring, starting it on first use. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == OneNodeRing.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            return c.getRoot().getStore(ExtensionContext.Namespace.create(OneNodeRing.class))
                    .computeIfAbsent(OneNodeRing.class, k -> {
                        try {
                            return start();
                        } catch (Exception e) {
                            throw new IllegalStateException("cannot start the one-node ring: " + e, e);
                        }
                    }, OneNodeRing.class);
        }
    }
}
