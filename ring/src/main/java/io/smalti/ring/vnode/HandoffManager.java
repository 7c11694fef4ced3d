package io.smalti.ring.vnode;

import io.smalti.protocol.cluster.Transfer;
import io.smalti.protocol.cluster.TransferList;
import io.smalti.protocol.vnode.SyncBatch;
import io.smalti.ring.Ring;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.AbstractActorWithTimers;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Props;
import org.apache.pekko.cluster.ddata.DistributedData;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.Replicator;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.pattern.Patterns;

/**
 * Moves replicas when the ring changes, on one node.
 *
 * <p><b>Inbound.</b> When this node enters a vnode's preference list it pulls the vnode's records from a
 * node that held them before, in key order, one batch at a time (the next batch is asked for once the
 * last one is journaled: back-pressure). A failed step (timeout, source gone) resumes after
 * {@code retry-after} from the last key it has, from the same or another old holder. Until the pull is
 * done the replica is "receiving": it is not offered as a handoff source, and its host answers reads
 * together with the source.
 *
 * <p><b>Outbound.</b> A replica this node holds for a vnode whose preference list no longer lists it
 * (it moved away, or this node was a fallback for a down node) is an orphan. Once every node of the
 * list is available and done receiving, the orphan compares digests with each of them, pushes the
 * records of any bucket that differs, and deletes itself only if nothing changed meanwhile. Until then
 * it keeps serving requests sent to it.
 *
 * <p>Both directions are published (every node's list, in Distributed Data) for the ring listing.
 */
final class HandoffManager extends AbstractActorWithTimers {

    /** The ring the node applies now. */
    record RingApplied(Ring ring) {}

    /** The host to work through (it is created after this actor, with this actor's reference). */
    record UseHost(ActorRef host) {}

    private enum Tick { INSTANCE }

    private record Step(ReplicaKey key, long generation, SyncBatch batch, Throwable error) {}

    private record OrphanStep(ReplicaKey key, long generation, String outcome, long pushed, String detail) {}

    private record Finished(Transfer transfer, long at) {}

    private static final Key<LWWMap<String, TransferList>> TRANSFERS = LWWMapKey.create("smalti-transfers");
    private static final Duration DONE_SHOWN_FOR = Duration.ofSeconds(20);
    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

    private static final class Inbound {
        final ReplicaKey key;
        final List<String> candidates;
        final String kind;
        /** No earlier ring says who held it: its candidates are guesses, extended by every member. */
        final boolean blind;
        /** Candidates that had nothing to give: no replica, or one they are receiving themselves (blind only). */
        final Set<String> emptyHanded = new HashSet<>();
        final long startedAt = System.currentTimeMillis();
        int candidate;
        String source;
        String cursor = "";
        long records;
        String state = "pending";
        long retryAt;
        long generation;
        boolean inFlight;

        Inbound(ReplicaKey key, List<String> candidates, String kind, boolean blind) {
            this.key = key;
            this.candidates = new ArrayList<>(candidates);
            this.kind = kind;
            this.blind = blind;
        }
    }

    private static final class Outbound {
        final ReplicaKey key;
        final String kind;
        final long startedAt = System.currentTimeMillis();
        List<String> targets = List.of();
        long pushed;
        String state = "waiting";
        String detail = "";
        long nextAttempt;
        long generation;
        boolean inFlight;

        Outbound(ReplicaKey key, String kind) {
            this.key = key;
            this.kind = kind;
        }
    }

    private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
    private final List<String> services;
    private final VnodeTransport transport;
    private final VnodeSettings settings;
    private final HandoffState shared;
    private final String self;
    private final ActorRef replicator;
    private final SelfUniqueAddress selfAddress;
    private ActorRef host;
    private Ring ring;
    private final Map<ReplicaKey, Inbound> inbound = new HashMap<>();
    private final Map<ReplicaKey, Outbound> outbound = new HashMap<>();
    private final Map<ReplicaKey, String> leftBehind = new HashMap<>();
    private final Set<ReplicaKey> local = new HashSet<>();
    /** Recently finished transfers, shown for a while with when they finished. */
    private final Deque<Finished> done = new ArrayDeque<>();
    private long generations;
    private List<Transfer> published = List.of();
    private long publishedAt;

    static Props props(List<String> services, VnodeTransport transport, VnodeSettings settings, HandoffState shared,
                       Optional<Ring> stored) {
        return Props.create(HandoffManager.class, () -> new HandoffManager(services, transport, settings, shared, stored));
    }

    private HandoffManager(List<String> services, VnodeTransport transport, VnodeSettings settings,
                           HandoffState shared, Optional<Ring> stored) {
        this.services = services;
        this.transport = transport;
        this.settings = settings;
        this.shared = shared;
        this.self = transport.selfName();
        // Until a ring arrives from the cluster, the ring this node last applied says what it held.
        this.ring = stored.orElse(null);
        DistributedData dd = DistributedData.get(getContext().getSystem());
        this.replicator = dd.replicator();
        this.selfAddress = dd.selfUniqueAddress();
    }

    @Override
    public void preStart() {
        replicator.tell(new Replicator.Subscribe<>(TRANSFERS, getSelf()), getSelf());
        getTimers().startTimerWithFixedDelay(Tick.INSTANCE, Tick.INSTANCE, Duration.ofMillis(250));
    }

    @Override
    public Receive createReceive() {
        return receiveBuilder()
                .match(UseHost.class, h -> host = h.host())
                .match(RingApplied.class, r -> onRing(r.ring()))
                .match(VnodeHost.ReplicaStarted.class, s -> local.add(s.key()))
                .match(Step.class, this::onStep)
                .match(OrphanStep.class, this::onOrphanStep)
                .matchEquals(Tick.INSTANCE, t -> onTick())
                .match(Replicator.Changed.class, this::onTransfersChanged)
                .match(Replicator.UpdateResponse.class, r -> { })
                .build();
    }

    // ---- ring changes --------------------------------------------------------------------------

    private void onRing(Ring next) {
        Ring prev = ring;
        ring = next;
        boolean comparable = prev != null && prev.size() == next.size();
        // The first ring of a new cluster: nobody held anything before it (a record needs a ring to be
        // written), so there is nothing to pull. Pulling anyway made nodes that formed the cluster together
        // wait on each other for good.
        boolean newCluster = prev == null && next.epoch() == 1;
        int started = 0;
        for (String service : services) {
            for (int v = 0; v < next.size(); v++) {
                ReplicaKey key = new ReplicaKey(service, v);
                List<String> now = next.preferenceList(v).nodes();
                List<String> before = comparable ? prev.preferenceList(v).nodes() : null;
                boolean in = now.contains(self);
                boolean was = before != null && before.contains(self);
                if (in) {
                    cancelOutbound(key);
                    if (!was && !newCluster && !inbound.containsKey(key)) {
                        List<String> candidates = sources(now, before);
                        if (!candidates.isEmpty()) {
                            String kind = now.get(0).equals(self) ? "ownership" : "replica";
                            inbound.put(key, new Inbound(key, candidates, kind, before == null));
                            shared.receiving.put(key, candidates.get(0));
                            started++;
                        }
                    }
                } else {
                    Inbound cancelled = inbound.remove(key);
                    if (cancelled != null) {
                        shared.receiving.remove(key);
                    }
                    if (was) {
                        leftBehind.put(key, now.get(0).equals(before.get(0)) ? "replica" : "ownership");
                    }
                }
            }
        }
        if (started > 0) {
            log.info("Ring epoch {}: this node receives {} replicas", next.epoch(), started);
        }
    }

    /**
     * Where a new replica can pull from: nodes that held it and still do (they stay complete), then nodes
     * that held it and are handing it off; without an earlier ring, the other nodes of the list (and, once
     * they are asked, every other member: see {@link #nextSource}).
     */
    private List<String> sources(List<String> now, List<String> before) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        if (before != null) {
            before.stream().filter(now::contains).forEach(out::add);
            out.addAll(before);
        } else {
            out.addAll(now);
        }
        out.remove(self);
        return new ArrayList<>(out);
    }

    private void cancelOutbound(ReplicaKey key) {
        Outbound o = outbound.remove(key);
        if (o != null) {
            o.generation = -1;
        }
        leftBehind.remove(key);
    }

    // ---- the work loop -------------------------------------------------------------------------

    private void onTick() {
        long now = System.currentTimeMillis();
        int streaming = (int) inbound.values().stream().filter(i -> i.inFlight).count();
        for (Inbound in : List.copyOf(inbound.values())) {
            if (streaming >= settings.handoffConcurrency()) {
                break;
            }
            if (!in.inFlight && in.retryAt <= now) {
                streaming++;
                step(in);
            }
        }
        long computedFor = -1;
        if (ring != null && host != null) {
            computedFor = ring.epoch();
            for (ReplicaKey key : local) {
                if (!Routing.holds(ring, key.vnode(), self) && !outbound.containsKey(key)
                        && key.vnode() < ring.size()) {
                    Outbound out = new Outbound(key, leftBehind.getOrDefault(key, "hinted"));
                    out.targets = ring.preferenceList(key.vnode()).nodes();
                    outbound.put(key, out);
                }
            }
            int working = (int) outbound.values().stream().filter(o -> o.inFlight).count();
            for (Outbound out : List.copyOf(outbound.values())) {
                if (working >= settings.handoffConcurrency()) {
                    break;
                }
                if (!out.inFlight && out.nextAttempt <= now) {
                    working++;
                    orphanStep(out);
                }
            }
        }
        publish(now);
        if (computedFor >= 0) {
            shared.handingOffEpoch.set(computedFor);
        }
    }

    // ---- inbound: pull batches ------------------------------------------------------------------

    private void step(Inbound in) {
        if (host == null) {
            return;
        }
        if (in.source == null || !transport.members().available(in.source)) {
            in.source = nextSource(in);
            if (in.source == null) {
                // A joining node may not know every member yet: give earlier holders time to appear.
                if (System.currentTimeMillis() - in.startedAt > GIVE_UP_AFTER.toMillis()) {
                    complete(in, "no earlier holder became available; anti-entropy fills it from its peers");
                } else {
                    in.state = "retrying";
                    in.retryAt = System.currentTimeMillis() + settings.handoffRetry().toMillis();
                }
                return;
            }
            shared.receiving.put(in.key, in.source);
        }
        in.inFlight = true;
        in.state = "streaming";
        long gen = ++generations;
        in.generation = gen;
        ReplicaKey key = in.key;
        // Built here, on the actor's thread: the stages below run elsewhere and must not read actor state.
        ReplicaPeer source = peer(key, in.source);
        ReplicaPeer mine = local(key);
        source.sync(in.cursor, settings.handoffBatch())
                .thenCompose(batch -> batch.getRecordsCount() == 0 ? CompletableFuture.completedFuture(batch)
                        : mine.store(batch.getRecordsList()).thenApply(ack -> batch))
                .whenComplete((batch, err) -> getSelf().tell(new Step(key, gen, batch, err), ActorRef.noSender()));
    }

    private String nextSource(Inbound in) {
        if (in.blind) {
            // The list's other nodes may all be new and waiting for each other; an earlier holder (now
            // handing the replica off) is among the other members.
            for (String m : transport.members().availableNames()) {
                if (!m.equals(self) && !in.candidates.contains(m)) {
                    in.candidates.add(m);
                }
            }
        }
        for (int i = 0; i < in.candidates.size(); i++) {
            String c = in.candidates.get((in.candidate + i) % in.candidates.size());
            if (transport.members().available(c)) {
                in.candidate = (in.candidate + i) % in.candidates.size();
                return c;
            }
        }
        return null;
    }

    private void onStep(Step s) {
        Inbound in = inbound.get(s.key());
        if (in == null || in.generation != s.generation()) {
            return; // cancelled or superseded
        }
        in.inFlight = false;
        if (s.error() != null) {
            Throwable cause = s.error() instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                    ? c.getCause() : s.error();
            if (in.blind && cause instanceof ReplicaPeer.Refused) {
                emptyHanded(in); // expected while guessing: not worth a log line
                return;
            }
            if (in.records == 0 && in.cursor.isEmpty() || cause instanceof ReplicaPeer.Refused) {
                log.info(String.format("Handoff of %s from %s paused at %d records: %s; resuming in %s", in.key,
                        in.source, in.records, cause.getMessage(), settings.handoffRetry()));
            }
            // Try the next earlier holder; the cursor stays, so nothing already stored is pulled again.
            in.candidate = (in.candidate + 1) % in.candidates.size();
            in.source = null;
            in.state = "retrying";
            in.retryAt = System.currentTimeMillis() + settings.handoffRetry().toMillis();
            return;
        }
        SyncBatch batch = s.batch();
        if (in.blind && batch.getNotHeld()) {
            emptyHanded(in);
            return;
        }
        in.records += batch.getRecordsCount();
        if (!batch.getLastKey().isEmpty()) {
            in.cursor = batch.getLastKey();
        }
        if (batch.getDone()) {
            complete(in, null);
        } else {
            step(in);
        }
    }

    /**
     * A guessed holder had nothing to give (no replica, or one it is still receiving itself): asks the next
     * candidate at once, or completes the pull once every available member has answered so. Nobody then
     * holds more than this node (a member receiving it pulls from one of them); guessed holders refusing
     * each other would otherwise wait on each other for good.
     */
    private void emptyHanded(Inbound in) {
        in.emptyHanded.add(in.source);
        if (in.candidates.stream().filter(c -> transport.members().available(c)).allMatch(in.emptyHanded::contains)) {
            complete(in, "no other member had its records");
            return;
        }
        in.candidate = (in.candidate + 1) % in.candidates.size();
        in.source = null;
        step(in);
    }

    private void complete(Inbound in, String note) {
        inbound.remove(in.key);
        shared.receiving.remove(in.key);
        double secs = (System.currentTimeMillis() - in.startedAt) / 1000.0;
        log.info(String.format("Handoff of %s to this node%s done: %d records in %.1fs%s", in.key,
                in.source == null ? "" : " from " + in.source, in.records, secs, note == null ? "" : " (" + note + ")"));
        remember(transfer(in.key, in.source == null ? "" : in.source, self, in.records, "done", in.kind, in.startedAt));
    }

    // ---- outbound: confirm and delete orphans -----------------------------------------------------

    private void orphanStep(Outbound out) {
        ReplicaKey key = out.key;
        List<String> targets = ring.preferenceList(key.vnode()).nodes();
        out.targets = targets;
        List<String> missing = targets.stream().filter(t -> !transport.members().available(t)).toList();
        if (!missing.isEmpty()) {
            out.state = "waiting";
            out.detail = "waiting for " + String.join(", ", missing);
            out.nextAttempt = System.currentTimeMillis() + 1000;
            return;
        }
        out.inFlight = true;
        out.state = "confirming";
        long gen = ++generations;
        out.generation = gen;
        // Built here, on the actor's thread: the stages below run elsewhere and must not read actor state.
        Duration timeout = settings.requestTimeout();
        int pageSize = settings.handoffBatch();
        ActorRef hostRef = host;
        ReplicaPeer mine = local(key);
        List<ReplicaPeer> peers = targets.stream().map(t -> peer(key, t)).toList();
        mine.digest().thenCompose(digest -> {
            CompletionStage<long[]> chain = CompletableFuture.completedFuture(new long[] {0});
            for (int i = 0; i < targets.size(); i++) {
                String target = targets.get(i);
                ReplicaPeer theirs = peers.get(i);
                chain = chain.thenCompose(pushed -> reconcile(mine, digest, theirs, pageSize).thenApply(n -> {
                    if (n < 0) {
                        throw new NotReadyException(target);
                    }
                    pushed[0] += n;
                    return pushed;
                }));
            }
            return chain.thenCompose(pushed -> transport.adopt(Patterns.askWithReplyTo(hostRef,
                            r -> new VnodeHost.DeleteReplica(key, digest, r), timeout))
                    .thenApply(reply -> reply instanceof VnodeHost.ReplicaDeleted
                            ? new OrphanStep(key, gen, "done", pushed[0], "")
                            : new OrphanStep(key, gen, "refused", pushed[0], "records changed during the check")));
        }).whenComplete((step, err) -> {
            OrphanStep result = step;
            if (err != null) {
                Throwable cause = err.getCause() != null ? err.getCause() : err;
                result = new OrphanStep(key, gen, cause instanceof NotReadyException ? "waiting" : "error", 0,
                        cause.getMessage());
            }
            getSelf().tell(result, ActorRef.noSender());
        });
    }

    /**
     * Makes {@code theirs} hold everything this node's replica holds: compares digests and pushes the
     * buckets that differ. Completes with the number of records pushed, or -1 if the target is still
     * receiving its own handoff.
     */
    private static CompletionStage<Long> reconcile(ReplicaPeer mine, Digest myDigest, ReplicaPeer theirs, int pageSize) {
        return theirs.ready().thenCompose(ready -> {
            if (!ready) {
                return CompletableFuture.completedFuture(-1L);
            }
            if (myDigest.records() == 0) {
                return CompletableFuture.completedFuture(0L);
            }
            return theirs.digest().thenCompose(digest -> {
                BitSet differ = myDigest.differingBuckets(digest);
                return differ.isEmpty() ? CompletableFuture.completedFuture(0L)
                        : BucketCopy.copy(differ, pageSize, mine, theirs);
            });
        });
    }

    private void onOrphanStep(OrphanStep s) {
        Outbound out = outbound.get(s.key());
        if (out == null || out.generation != s.generation()) {
            return;
        }
        out.inFlight = false;
        out.pushed += s.pushed();
        switch (s.outcome()) {
            case "done" -> {
                outbound.remove(s.key());
                local.remove(s.key());
                leftBehind.remove(s.key());
                log.info("Handed off {} ({}) to {}: {} records pushed in the final check; local copy deleted",
                        s.key(), out.kind, out.targets, out.pushed);
                remember(transfer(s.key(), self, String.join(",", out.targets), out.pushed, "done", out.kind, out.startedAt));
            }
            case "waiting" -> {
                out.state = "waiting";
                out.detail = "waiting for " + s.detail() + " to finish receiving";
                out.nextAttempt = System.currentTimeMillis() + 1000;
            }
            default -> {
                out.state = "retrying";
                out.detail = s.detail();
                out.nextAttempt = System.currentTimeMillis() + settings.handoffRetry().toMillis();
                log.debug("Handoff of {} away from this node: {} ({})", s.key(), s.outcome(), s.detail());
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private ReplicaPeer local(ReplicaKey key) {
        return ReplicaPeer.local(transport, host, key, ring == null ? 0 : ring.epoch(), settings.requestTimeout());
    }

    private ReplicaPeer peer(ReplicaKey key, String node) {
        return ReplicaPeer.on(transport, node, key, ring == null ? 0 : ring.epoch(), settings.requestTimeout());
    }

    private void remember(Transfer t) {
        long now = System.currentTimeMillis();
        done.addLast(new Finished(t.toBuilder().setFinishedAtMillis(now).build(), now));
    }

    private static Transfer transfer(ReplicaKey key, String from, String to, long records, String state, String kind,
                                     long startedAt) {
        return Transfer.newBuilder().setService(key.service()).setVnode(key.vnode()).setFrom(from).setTo(to)
                .setRecords(records).setState(state).setKind(kind).setStartedAtMillis(startedAt).build();
    }

    /** Recomputes this node's transfer list and publishes it when it changed (at most once a second). */
    private void publish(long now) {
        while (!done.isEmpty() && now - done.peekFirst().at() > DONE_SHOWN_FOR.toMillis()) {
            done.removeFirst();
        }
        List<Transfer> list = new ArrayList<>();
        for (Inbound in : inbound.values()) {
            list.add(transfer(in.key, in.source != null ? in.source : in.candidates.get(in.candidate), self,
                    in.records, in.state, in.kind, in.startedAt));
        }
        for (Outbound out : outbound.values()) {
            list.add(transfer(out.key, self, String.join(",", out.targets), out.pushed, out.state, out.kind, out.startedAt));
        }
        done.forEach(f -> list.add(f.transfer()));
        list.sort(java.util.Comparator.comparing(Transfer::getService).thenComparingInt(Transfer::getVnode));
        shared.local.set(List.copyOf(list));
        shared.handingOff.set(outbound.size());
        if (!list.equals(published) && now - publishedAt >= 1000) {
            published = list;
            publishedAt = now;
            TransferList mine = TransferList.newBuilder().setNode(self).addAllTransfers(list).setUpdatedAtMillis(now).build();
            replicator.tell(new Replicator.Update<>(TRANSFERS, LWWMap.create(), Replicator.writeLocal(), Optional.empty(),
                    map -> map.put(selfAddress, self, mine)), getSelf());
        }
    }

    @SuppressWarnings("unchecked")
    private void onTransfersChanged(Replicator.Changed<?> changed) {
        if (changed.key().equals(TRANSFERS)) {
            shared.cluster.set(Map.copyOf(((LWWMap<String, TransferList>) changed.dataValue()).getEntries()));
        }
    }

    private static final class NotReadyException extends RuntimeException {
        NotReadyException(String node) {
            super(node);
        }
    }
}
