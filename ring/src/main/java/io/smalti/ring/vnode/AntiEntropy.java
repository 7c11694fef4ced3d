package io.smalti.ring.vnode;

import io.smalti.ring.Ring;
import io.smalti.ring.cluster.RingView;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.AbstractActorWithTimers;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Props;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;

/**
 * Background repair on one node: every {@code anti-entropy.interval} it takes the next vnode it is
 * primary for and, with each other replica that is available and done receiving, compares digests and
 * exchanges the records of the buckets that differ, in both directions. Replicas converge however
 * writes, crashes and partitions left them, since merging is a CRDT join. One exchange runs at a time.
 */
final class AntiEntropy extends AbstractActorWithTimers {

    /** Counters, readable from any thread. */
    static final class Stats {
        final AtomicLong exchanges = new AtomicLong();
        final AtomicLong repairedBuckets = new AtomicLong();
        final AtomicLong recordsIn = new AtomicLong();
        final AtomicLong recordsOut = new AtomicLong();
    }

    private enum Tick { INSTANCE }

    private record Finished(ReplicaKey key, long bucketsRepaired, long in, long out, Throwable error) {}

    private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
    private final List<String> services;
    private final VnodeTransport transport;
    private final VnodeSettings settings;
    private final RingView ringView;
    private final HandoffState handoff;
    private final Stats stats;
    private final ActorRef host;
    private int cursor;
    private boolean running;

    static Props props(List<String> services, VnodeTransport transport, VnodeSettings settings, RingView ringView,
                       HandoffState handoff, Stats stats, ActorRef host) {
        return Props.create(AntiEntropy.class,
                () -> new AntiEntropy(services, transport, settings, ringView, handoff, stats, host));
    }

    private AntiEntropy(List<String> services, VnodeTransport transport, VnodeSettings settings, RingView ringView,
                        HandoffState handoff, Stats stats, ActorRef host) {
        this.services = services;
        this.transport = transport;
        this.settings = settings;
        this.ringView = ringView;
        this.handoff = handoff;
        this.stats = stats;
        this.host = host;
    }

    @Override
    public void preStart() {
        getTimers().startTimerWithFixedDelay(Tick.INSTANCE, Tick.INSTANCE, settings.antiEntropyInterval());
    }

    @Override
    public Receive createReceive() {
        return receiveBuilder()
                .matchEquals(Tick.INSTANCE, t -> exchangeNext())
                .match(Finished.class, this::onFinished)
                .build();
    }

    private void exchangeNext() {
        Ring ring = ringView.current().orElse(null);
        if (running || ring == null) {
            return;
        }
        String self = transport.selfName();
        int total = services.size() * ring.size();
        for (int i = 0; i < total; i++) {
            int slot = (cursor + i) % total;
            ReplicaKey key = new ReplicaKey(services.get(slot / ring.size()), slot % ring.size());
            List<String> nodes = ring.preferenceList(key.vnode()).nodes();
            if (nodes.get(0).equals(self) && !handoff.isReceiving(key)) {
                cursor = slot + 1;
                running = true;
                exchange(ring, key, nodes.subList(1, nodes.size()));
                return;
            }
        }
    }

    private void exchange(Ring ring, ReplicaKey key, List<String> peers) {
        Duration timeout = settings.requestTimeout();
        long[] totals = new long[3];
        CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
        for (String peer : peers) {
            if (!transport.members().available(peer)) {
                continue;
            }
            chain = chain.thenCompose(x -> repairWith(ring, key, peer, timeout, totals));
        }
        chain.whenComplete((x, err) -> getSelf().tell(new Finished(key, totals[0], totals[1], totals[2], err),
                ActorRef.noSender()));
    }

    private CompletionStage<Void> repairWith(Ring ring, ReplicaKey key, String peer, Duration timeout, long[] totals) {
        ReplicaPeer mine = ReplicaPeer.local(transport, host, key, ring.epoch(), timeout);
        ReplicaPeer theirs = ReplicaPeer.on(transport, peer, key, ring.epoch(), timeout);
        return theirs.ready().thenCompose(ready -> {
            if (!ready) {
                return CompletableFuture.completedFuture(null); // still receiving: handoff fills it
            }
            return mine.digest().thenCombine(theirs.digest(), Digest::differingBuckets).thenCompose(differ -> {
                if (differ.isEmpty()) {
                    return CompletableFuture.completedFuture(null);
                }
                totals[0] += differ.cardinality();
                return BucketCopy.copy(differ, settings.handoffBatch(), theirs, mine)
                        .thenCompose(in -> {
                            totals[1] += in;
                            return BucketCopy.copy(differ, settings.handoffBatch(), mine, theirs);
                        })
                        .thenAccept(out -> totals[2] += out);
            });
        });
    }

    private void onFinished(Finished f) {
        running = false;
        stats.exchanges.incrementAndGet();
        if (f.error() != null) {
            log.debug("Anti-entropy of {} stopped: {}", f.key(), f.error().toString());
            return;
        }
        if (f.bucketsRepaired() > 0) {
            stats.repairedBuckets.addAndGet(f.bucketsRepaired());
            stats.recordsIn.addAndGet(f.in());
            stats.recordsOut.addAndGet(f.out());
            log.info("Anti-entropy repaired {}: {} buckets differed; {} records received, {} sent",
                    f.key(), f.bucketsRepaired(), f.in(), f.out());
        }
    }
}
