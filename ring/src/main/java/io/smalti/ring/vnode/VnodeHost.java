package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.Coordinate;
import io.smalti.protocol.vnode.Failure;
import io.smalti.protocol.vnode.ReadReply;
import io.smalti.protocol.vnode.ReadyReply;
import io.smalti.protocol.vnode.Record;
import io.smalti.protocol.vnode.SyncBatch;
import io.smalti.protocol.vnode.VnodeEnvelope;
import io.smalti.ring.PreferenceList;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.RingView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AbstractActorWithStash;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Props;
import org.apache.pekko.actor.Terminated;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The vnode framework's presence on one node (at {@link VnodeTransport#HOST_PATH}): once the journal
 * schema exists, it starts a replica for every replica journaled on this node (they recover before they
 * handle anything), creates replicas on demand, and routes every request for a vnode to its replica.
 *
 * <p>Routing exceptions: a request built on an older ring for a vnode this node no longer holds is
 * forwarded to the vnode's current replicas; a read of a replica still receiving its handoff also asks
 * the node it is receiving from and merges both answers; requests for a replica being deleted wait
 * until the deletion is done.
 */
final class VnodeHost extends AbstractActorWithStash {

    /** Asks for the replicas this node has; answered with {@link ReplicaSet}. */
    record ListReplicas() {}

    record ReplicaSet(Set<ReplicaKey> keys) {}

    /** Delete a replica if its digest is still {@code expected}; answered with ReplicaDeleted or DeleteRefused. */
    record DeleteReplica(ReplicaKey key, Digest expected, ActorRef replyTo) {}

    record ReplicaDeleted(ReplicaKey key) {}

    record DeleteRefused(ReplicaKey key) {}

    /** Told to the handoff manager whenever a replica starts on this node. */
    record ReplicaStarted(ReplicaKey key) {}

    private record JournalReady(List<String> persistenceIds) {}

    private record JournalFailed(Throwable cause) {}

    /** A request that waits for a deletion to end. */
    private record Buffered(VnodeEnvelope env, ActorRef sender) {}

    private record Deletion(ActorRef requester, List<Buffered> buffered) {}

    private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
    private final Map<String, VnodeService> services;
    private final VnodeTransport transport;
    private final VnodeSettings settings;
    private final RingView ringView;
    private final HandoffState handoff;
    private final ActorRef handoffManager;
    private final Map<ReplicaKey, ActorRef> replicas = new HashMap<>();
    private final Map<ActorRef, ReplicaKey> byRef = new HashMap<>();
    private final Map<ReplicaKey, Integer> incarnation = new HashMap<>();
    private final Map<ReplicaKey, Deletion> deleting = new HashMap<>();
    private final CompletionStage<Done> schema;

    /** @param schema completes once the journal's tables exist */
    static Props props(Map<String, VnodeService> services, VnodeTransport transport, VnodeSettings settings,
                       RingView ringView, HandoffState handoff, ActorRef handoffManager, CompletionStage<Done> schema) {
        return Props.create(VnodeHost.class,
                () -> new VnodeHost(services, transport, settings, ringView, handoff, handoffManager, schema));
    }

    private VnodeHost(Map<String, VnodeService> services, VnodeTransport transport, VnodeSettings settings,
                      RingView ringView, HandoffState handoff, ActorRef handoffManager, CompletionStage<Done> schema) {
        this.services = services;
        this.transport = transport;
        this.settings = settings;
        this.ringView = ringView;
        this.handoff = handoff;
        this.handoffManager = handoffManager;
        this.schema = schema;
    }

    @Override
    public void preStart() {
        var system = getContext().getSystem();
        CompletionStage<List<String>> ids = schema.thenCompose(done ->
                PersistenceQuery.get(system)
                        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier())
                        .currentPersistenceIds()
                        .runWith(Sink.seq(), Materializer.matFromSystem(system)));
        Patterns.pipe(ids.handle((list, err) -> err == null ? new JournalReady(list) : new JournalFailed(err)),
                getContext().getDispatcher()).to(getSelf());
    }

    @Override
    public Receive createReceive() {
        return receiveBuilder()
                .match(JournalReady.class, ready -> {
                    int started = 0;
                    for (String id : ready.persistenceIds()) {
                        ReplicaKey key = ReplicaKey.fromPersistenceId(id);
                        if (key != null && services.containsKey(key.service())) {
                            replica(key);
                            started++;
                        }
                    }
                    log.info("Journal ready; recovering {} replicas", started);
                    getContext().become(running());
                    unstashAll();
                })
                .match(JournalFailed.class, f -> {
                    // Without a journal this node cannot hold replicas: fail loudly instead of dropping writes.
                    log.error(f.cause(), "Cannot open the journal: {}", f.cause().toString());
                    throw new IllegalStateException("cannot open the journal", f.cause());
                })
                .matchAny(m -> stash())
                .build();
    }

    private Receive running() {
        return receiveBuilder()
                .match(VnodeEnvelope.class, env -> route(env, getSender()))
                .match(ListReplicas.class, l -> getSender().tell(new ReplicaSet(Set.copyOf(replicas.keySet())), getSelf()))
                .match(DeleteReplica.class, this::onDeleteReplica)
                .match(ReplicaActor.Deleted.class, this::onDeleted)
                .match(ReplicaActor.DeleteRefused.class, this::onDeleteRefused)
                .match(Terminated.class, t -> {
                    ReplicaKey key = byRef.remove(t.getActor());
                    if (key != null && t.getActor().equals(replicas.get(key))) {
                        replicas.remove(key);
                        log.warning("Replica {} stopped unexpectedly; it restarts from its journal on the next request", key);
                    }
                })
                .build();
    }

    private void route(VnodeEnvelope env, ActorRef sender) {
        if (!services.containsKey(env.getService())) {
            fail(env, Failure.Code.UNKNOWN_SERVICE, "node " + transport.selfName() + " has no service '"
                    + env.getService() + "' (it has " + services.keySet() + ")");
            return;
        }
        Ring ring = ringView.current().orElse(null);
        if (ring != null && env.getVnode() >= ring.size()) {
            fail(env, Failure.Code.BAD_REQUEST, "vnode " + env.getVnode() + " is outside the ring (0.." + (ring.size() - 1) + ")");
            return;
        }
        ReplicaKey key = new ReplicaKey(env.getService(), env.getVnode());
        boolean stale = ring != null && env.getRingEpoch() < ring.epoch()
                && !Routing.holds(ring, key.vnode(), transport.selfName());
        switch (env.getBodyCase()) {
            case READY_QUERY -> transport.reply(env, VnodeEnvelope.newBuilder()
                    .setReadyReply(ReadyReply.newBuilder().setReady(!handoff.isReceiving(key))), getSelf());
            case SYNC_REQUEST -> {
                if (handoff.isReceiving(key)) {
                    fail(env, Failure.Code.NOT_SERVING, "replica " + key + " on " + transport.selfName()
                            + " is itself still receiving its records");
                } else {
                    deliver(key, env, sender);
                }
            }
            case COORDINATE -> {
                if (stale && !env.getCoordinate().getFallback()) {
                    forwardWrite(env, ring, sender);
                } else {
                    deliver(key, env, sender);
                }
            }
            case READ -> {
                String source = handoff.receiving.get(key);
                if (env.getRead().getReplicaOnly()) {
                    deliver(key, env, sender);
                } else if (source != null) {
                    readThrough(env, key, source);
                } else if (stale && !replicas.containsKey(key)) {
                    forwardRead(env, ring, sender);
                } else {
                    deliver(key, env, sender);
                }
            }
            default -> deliver(key, env, sender);
        }
    }

    private void deliver(ReplicaKey key, VnodeEnvelope env, ActorRef sender) {
        Deletion d = deleting.get(key);
        if (d != null) {
            d.buffered().add(new Buffered(env, sender));
        } else if (!replicas.containsKey(key) && answerAsEmpty(env)) {
            return; // a replica that does not exist here holds nothing; do not create one just to say so
        } else {
            replica(key).tell(env, sender);
        }
    }

    /** Answers a read-only request for a replica this node does not have; false for requests that write. */
    private boolean answerAsEmpty(VnodeEnvelope env) {
        VnodeEnvelope.Builder reply = VnodeEnvelope.newBuilder();
        switch (env.getBodyCase()) {
            case READ -> reply.setReadReply(ReadReply.newBuilder().setFound(false));
            case SYNC_REQUEST -> reply.setSyncBatch(SyncBatch.newBuilder().setDone(true).setNotHeld(true));
            case BUCKET_REQUEST -> reply.setSyncBatch(SyncBatch.newBuilder().setDone(true));
            case DIGEST_REQUEST -> reply.setDigestReply(Digest.EMPTY.toReply());
            default -> {
                return false;
            }
        }
        transport.reply(env, reply, getSelf());
        return true;
    }

    private ActorRef replica(ReplicaKey key) {
        ActorRef ref = replicas.get(key);
        if (ref == null) {
            int n = incarnation.merge(key, 1, Integer::sum);
            ref = getContext().actorOf(ReplicaActor.props(key, services.get(key.service()), transport, settings),
                    key.service() + "-" + key.vnode() + "-" + n);
            getContext().watch(ref);
            replicas.put(key, ref);
            byRef.put(ref, key);
            handoffManager.tell(new ReplicaStarted(key), getSelf());
        }
        return ref;
    }

    /** A write built on an older ring for a vnode this node no longer holds: send it to the current coordinator. */
    private void forwardWrite(VnodeEnvelope env, Ring ring, ActorRef sender) {
        List<PreferenceList.Replica> targets = Routing.replicas(ring, env.getVnode(), transport.members());
        if (targets.isEmpty()) {
            fail(env, Failure.Code.NOT_SERVING, "no replica of " + env.getService() + "/" + env.getVnode() + " is available");
            return;
        }
        Coordinate.Builder c = env.getCoordinate().toBuilder().clearReplicas()
                .setFallback(targets.get(0).role() == PreferenceList.Role.FALLBACK);
        targets.subList(1, targets.size()).forEach(r -> c.addReplicas(r.node()));
        VnodeEnvelope forwarded = env.toBuilder().setRingEpoch(ring.epoch()).setCoordinate(c).build();
        String target = targets.get(0).node();
        if (target.equals(transport.selfName())) {
            deliver(new ReplicaKey(env.getService(), env.getVnode()), forwarded, sender);
        } else if (!transport.send(target, forwarded, sender)) {
            fail(env, Failure.Code.NOT_SERVING, "coordinator " + target + " is not a member");
        }
    }

    /** A read built on an older ring for a vnode this node no longer holds: the current primary answers. */
    private void forwardRead(VnodeEnvelope env, Ring ring, ActorRef sender) {
        List<PreferenceList.Replica> targets = Routing.replicas(ring, env.getVnode(), transport.members());
        String target = targets.isEmpty() ? null : targets.get(0).node();
        VnodeEnvelope forwarded = env.toBuilder().setRingEpoch(ring.epoch()).build();
        if (target == null || target.equals(transport.selfName()) || !transport.send(target, forwarded, sender)) {
            deliver(new ReplicaKey(env.getService(), env.getVnode()), env, sender);
        }
    }

    /**
     * A replica still receiving its handoff answers reads together with the node it receives from, so a
     * read never misses a record that has not arrived yet.
     */
    private void readThrough(VnodeEnvelope env, ReplicaKey key, String source) {
        VnodeService service = services.get(key.service());
        CompletionStage<VnodeEnvelope> local = transport.ask(replica(key),
                path -> env.toBuilder().setReplyTo(path).build(), settings.requestTimeout());
        VnodeEnvelope fromSource = env.toBuilder().setRead(env.getRead().toBuilder().setReplicaOnly(true)).build();
        // Half the request's time: a source that does not answer leaves time to answer from the local replica.
        CompletionStage<VnodeEnvelope> remote = transport.ask(source,
                path -> fromSource.toBuilder().setReplyTo(path).build(), settings.requestTimeout().dividedBy(2))
                .exceptionally(e -> null);
        local.thenCombine(remote, (a, b) -> mergeReads(service, env.getRead().getKey(), a, b))
                .whenComplete((reply, err) -> {
                    if (err != null) {
                        fail(env, Failure.Code.TIMEOUT, "replica " + key + " did not answer: " + err);
                    } else {
                        transport.reply(env, VnodeEnvelope.newBuilder().setReadReply(reply), ActorRef.noSender());
                    }
                });
    }

    private static ReadReply mergeReads(VnodeService service, String key, VnodeEnvelope a, VnodeEnvelope b) {
        ByteString merged = null;
        for (VnodeEnvelope e : new VnodeEnvelope[] {a, b}) {
            if (e != null && e.hasReadReply() && e.getReadReply().getFound()) {
                ByteString v = e.getReadReply().getRecord().getValue();
                merged = merged == null ? v : service.merge(key, merged, v);
            }
        }
        ReadReply.Builder r = ReadReply.newBuilder().setFound(merged != null);
        if (merged != null) {
            r.setRecord(Record.newBuilder().setKey(key).setValue(merged));
        }
        return r.build();
    }

    private void onDeleteReplica(DeleteReplica d) {
        ActorRef ref = replicas.get(d.key());
        if (ref == null) {
            d.replyTo().tell(new ReplicaDeleted(d.key()), getSelf());
            return;
        }
        deleting.put(d.key(), new Deletion(d.replyTo(), new ArrayList<>()));
        ref.tell(new ReplicaActor.Delete(d.expected(), getSelf()), getSelf());
    }

    private void onDeleted(ReplicaActor.Deleted d) {
        Deletion deletion = deleting.remove(d.key());
        replicas.remove(d.key());
        byRef.remove(d.self());
        getContext().unwatch(d.self());
        getContext().stop(d.self());
        if (deletion != null) {
            deletion.requester().tell(new ReplicaDeleted(d.key()), getSelf());
            // Requests that arrived meanwhile go to a new, empty incarnation (it hands them on if it must).
            deletion.buffered().forEach(b -> deliver(d.key(), b.env(), b.sender()));
        }
    }

    private void onDeleteRefused(ReplicaActor.DeleteRefused r) {
        Deletion deletion = deleting.remove(r.key());
        if (deletion != null) {
            deletion.buffered().forEach(b -> r.self().tell(b.env(), b.sender()));
            deletion.requester().tell(new DeleteRefused(r.key()), getSelf());
        }
    }

    private void fail(VnodeEnvelope env, Failure.Code code, String message) {
        transport.reply(env, VnodeEnvelope.newBuilder()
                .setFailure(Failure.newBuilder().setCode(code).setMessage(message)), getSelf());
    }
}
