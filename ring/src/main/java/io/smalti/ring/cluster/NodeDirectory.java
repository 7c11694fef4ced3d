package io.smalti.ring.cluster;

import io.smalti.protocol.cluster.NodeInfo;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * Where each node can be reached: every node agent publishes its {@link NodeInfo} (name, cluster
 * address, REST API URL) in a replicated last-writer-wins map keyed by node name, and keeps a copy of
 * the whole map in a {@link View}. A restarted node overwrites its own entry.
 */
public final class NodeDirectory {
    public static final Key<LWWMap<String, NodeInfo>> KEY = LWWMapKey.create("smalti-nodes");

    private NodeDirectory() {}

    /** The directory as last seen by this node; readable from any thread. */
    public static final class View {
        private final AtomicReference<Map<String, NodeInfo>> entries = new AtomicReference<>(Map.of());

        public Map<String, NodeInfo> entries() {
            return entries.get();
        }
    }

    private interface Command {}

    private record Changed(Replicator.SubscribeResponse<LWWMap<String, NodeInfo>> response) implements Command {}

    private record Written(Replicator.UpdateResponse<LWWMap<String, NodeInfo>> response) implements Command {}

    /** Publishes {@code self} and follows everyone else's entries into {@code view}. */
    public static Behavior<?> create(NodeInfo self, View view) {
        return Behaviors.<Command>setup(ctx -> DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, LWWMap<String, NodeInfo>> replicator) -> {
                    SelfUniqueAddress node = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
                    replicator.subscribe(KEY, Changed::new);
                    replicator.askUpdate(
                            replyTo -> new Replicator.Update<>(KEY, LWWMap.create(), Replicator.writeLocal(), replyTo,
                                    map -> map.put(node, self.getName(), self)),
                            Written::new);
                    return Behaviors.receive(Command.class)
                            .onMessage(Changed.class, c -> {
                                if (c.response() instanceof Replicator.Changed<LWWMap<String, NodeInfo>> changed) {
                                    view.entries.set(Map.copyOf(changed.dataValue().getEntries()));
                                }
                                return Behaviors.same();
                            })
                            .onMessage(Written.class, w -> Behaviors.same())
                            .build();
                }));
    }
}
