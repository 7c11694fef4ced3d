package io.smalti.hub;

import io.smalti.hub.router.Router;
import io.smalti.ring.cluster.ClusterMembers;
import io.smalti.ring.cluster.NodeNames;
import java.time.Duration;
import java.util.SortedSet;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the cluster's membership: when a node is removed for good (downed after being unreachable, or
 * left), the components connected to that incarnation of its hub went away with it, and one surviving node
 * — the first available one by name — has its router clean up after them ({@link Router#nodeLost}). The
 * ring may be moving the lost node's vnodes at that moment, so a failed clean-up is tried again a few times.
 * A node started again under the same name is another incarnation (its member's unique id): its sessions
 * are not the lost one's, even when the old incarnation is removed only after the new one has joined.
 * Runs on its actor.
 */
final class NodeLossWatcher {
    private static final Logger LOG = LoggerFactory.getLogger(NodeLossWatcher.class);
    private static final int ATTEMPTS = 10;
    private static final Duration RETRY = Duration.ofSeconds(3);

    private record Cleanup(String node, long incarnation, int attempt) {}

    private record Outcome(Cleanup cleanup, Integer gone, Throwable error) {}

    private NodeLossWatcher() {}

    static Behavior<Object> create(ClusterMembers members, Router router) {
        return Behaviors.setup(ctx -> {
            Cluster.get(ctx.getSystem()).subscriptions()
                    .tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberRemoved.class));
            return Behaviors.withTimers(timers -> Behaviors.receive(Object.class)
                    .onMessage(ClusterEvent.MemberRemoved.class, removed -> {
                        String lost = NodeNames.of(removed.member());
                        SortedSet<String> alive = members.availableNames();
                        alive.remove(lost);
                        if (!lost.equals(members.selfName()) && !alive.isEmpty() && alive.first().equals(members.selfName())) {
                            ctx.getSelf().tell(new Cleanup(lost, removed.member().uniqueAddress().longUid(), 1));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Cleanup.class, c -> {
                        ctx.pipeToSelf(router.nodeLost(c.node(), c.incarnation()), (gone, err) -> new Outcome(c, gone, err));
                        return Behaviors.same();
                    })
                    .onMessage(Outcome.class, o -> {
                        String node = o.cleanup().node();
                        if (o.error() == null) {
                            LOG.info("Cleaned up after lost node {}: {} component(s) went away with it", node, o.gone());
                        } else if (o.cleanup().attempt() < ATTEMPTS) {
                            LOG.info("Could not yet clean up after lost node {} ({}); trying again in {} s", node,
                                    Router.rootMessage(o.error()), RETRY.toSeconds());
                            timers.startSingleTimer(new Cleanup(node, o.cleanup().incarnation(), o.cleanup().attempt() + 1), RETRY);
                        } else {
                            LOG.warn("Gave up cleaning up after lost node {}: {}", node, Router.rootMessage(o.error()));
                        }
                        return Behaviors.same();
                    })
                    .build());
        });
    }
}
