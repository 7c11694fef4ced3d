package io.smalti.component.testing;

import io.smalti.component.records.ComponentRecords;
import io.smalti.component.records.ComponentService;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.RingView;
import io.smalti.ring.testing.OneNodeCluster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A one-node ring (node {@value #NODE}) running the components service: started once for the whole test run
 * (by the first test class that asks for it) and stopped when the run ends. Test classes take it as a
 * parameter ({@code @BeforeAll static void start(ComponentRing ring)}) with
 * {@code @ExtendWith(ComponentRing.Extension.class)}; they share it, so they use fresh names and bundles.
 */
public final class ComponentRing implements AutoCloseable {
    public static final String NODE = OneNodeCluster.NODE;

    private final OneNodeCluster cluster;
    private final ComponentRecords records;

    private ComponentRing(OneNodeCluster cluster, ComponentRecords records) {
        this.cluster = cluster;
        this.records = records;
    }

    public ComponentRecords records() {
        return records;
    }

    public RingView ringView() {
        return cluster.ringView();
    }

    public ClusterMembers members() {
        return cluster.members();
    }

    /** A fresh directory under the ring's temporary directory, deleted with it. */
    public Path newDir(String hint) throws IOException {
        return cluster.newDir(hint);
    }

    /** A fresh name: a valid bundle name (a-z, 0-9, '-'). */
    public static String newName(String hint) {
        return hint + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    static ComponentRing start() throws Exception {
        OneNodeCluster cluster = OneNodeCluster.start("components", clock -> List.of(new ComponentService(NODE, clock)));
        ComponentRecords records = new ComponentRecords(cluster.client());
        cluster.awaitWritable(() -> records.add("index/warm-up", "warm-up").toCompletableFuture().get(5, TimeUnit.SECONDS));
        return new ComponentRing(cluster, records);
    }

    @Override
    public void close() throws IOException {
        cluster.close();
    }

    /** Resolves {@link ComponentRing} parameters with the run's one ring, starting it on first use. */
    public static final class Extension implements ParameterResolver {
        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == ComponentRing.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            return c.getRoot().getStore(ExtensionContext.Namespace.create(ComponentRing.class))
                    .computeIfAbsent(ComponentRing.class, k -> {
                        try {
                            return start();
                        } catch (Exception e) {
                            throw new IllegalStateException("cannot start the one-node ring: " + e, e);
                        }
                    }, ComponentRing.class);
        }
    }
}
