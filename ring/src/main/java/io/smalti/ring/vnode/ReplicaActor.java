package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.BucketRequest;
import io.smalti.protocol.vnode.Failure;
import io.smalti.protocol.vnode.ReadReply;
import io.smalti.protocol.vnode.Record;
import io.smalti.protocol.vnode.RecordsChanged;
import io.smalti.protocol.vnode.Replicate;
import io.smalti.protocol.vnode.ReplicaSnapshot;
import io.smalti.protocol.vnode.ReplicateAck;
import io.smalti.protocol.vnode.SyncBatch;
import io.smalti.protocol.vnode.VnodeEnvelope;
import io.smalti.protocol.vnode.WriteReply;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.Props;
import org.apache.pekko.event.Logging;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.persistence.AbstractPersistentActor;
import org.apache.pekko.persistence.DeleteMessagesFailure;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.DeleteSnapshotsFailure;
import org.apache.pekko.persistence.DeleteSnapshotsSuccess;
import org.apache.pekko.persistence.RecoveryCompleted;
import org.apache.pekko.persistence.SaveSnapshotFailure;
import org.apache.pekko.persistence.SaveSnapshotSuccess;
import org.apache.pekko.persistence.SnapshotOffer;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;

/**
 * One replica of one service's records in one vnode, on this node: an event-sourced actor on the
 * node's own journal. Every change is journaled as a {@link RecordsChanged} event before it is
 * acknowledged; every {@code snapshot-every} events the whole state is journaled as a snapshot and
 * older events are dropped. A restarted node replays the journal before the replica handles anything.
 *
 * <p>As coordinator of a write it runs the service's command, journals the changed records, sends them
 * to the other replicas and answers once W replicas (itself included) have journaled them. Writes are
 * journaled with {@code persistAsync}, so many are in flight at once and the journal batches them;
 * state changes immediately, so a later command sees an earlier one's effect.
 */
final class ReplicaActor extends AbstractPersistentActor {

    /**
     * Sent by the host: drop this replica's journal and snapshots (its records live elsewhere now), but
     * only if its digest still equals {@code expected} (null: unconditionally), so no record that arrived
     * after the handoff was confirmed is dropped.
     */
    record Delete(Digest expected, ActorRef replyTo) {}

    /** Sent to the host once a {@link Delete} is done. */
    record Deleted(ReplicaKey key, ActorRef self) {}

    /** Sent to the host when a {@link Delete} was refused because records changed since. */
    record DeleteRefused(ReplicaKey key, ActorRef self) {}

    private record WriteTimeout(long id) {}

    private static final class PendingWrite {
        final VnodeEnvelope request;
        final ByteString reply;
        final int w;
        final int reachable;
        int acks;
        Cancellable timer;

        PendingWrite(VnodeEnvelope request, ByteString reply, int w, int reachable) {
            this.request = request;
            this.reply = reply;
            this.w = w;
            this.reachable = reachable;
        }
    }

    private final LoggingAdapter log = Logging.getLogger(getContext().getSystem(), this);
    private final ReplicaKey key;
    private final VnodeService service;
    private final VnodeTransport transport;
    private final VnodeSettings settings;
    private VnodeReplicaState state;
    private int eventsSinceSnapshot;
    private long nextWriteId;
    private final Map<Long, PendingWrite> pending = new HashMap<>();
    private ActorRef deleteRequester;
    private boolean messagesDeleted;
    private boolean snapshotsDeleted;

    static Props props(ReplicaKey key, VnodeService service, VnodeTransport transport, VnodeSettings settings) {
        return Props.create(ReplicaActor.class, () -> new ReplicaActor(key, service, transport, settings));
    }

    private ReplicaActor(ReplicaKey key, VnodeService service, VnodeTransport transport, VnodeSettings settings) {
        this.key = key;
        this.service = service;
        this.transport = transport;
        this.settings = settings;
        this.state = service.newReplica(key.vnode());
    }

    @Override
    public String persistenceId() {
        return key.persistenceId();
    }

    @Override
    public Receive createReceiveRecover() {
        return receiveBuilder()
                .match(RecordsChanged.class, e -> {
                    e.getRecordsList().forEach(state::merge);
                    eventsSinceSnapshot++;
                })
                .match(SnapshotOffer.class, offer -> {
                    state = service.newReplica(key.vnode());
                    ((ReplicaSnapshot) offer.snapshot()).getRecordsList().forEach(state::merge);
                })
                .match(RecoveryCompleted.class, done -> {
                    if (!state.isEmpty()) {
                        log.info("Replica {} recovered {} records from the journal", key, state.size());
                    }
                })
                .build();
    }

    @Override
    public Receive createReceive() {
        return receiveBuilder()
                .match(VnodeEnvelope.class, this::onEnvelope)
                .match(WriteTimeout.class, t -> onWriteTimeout(t.id()))
                .match(Delete.class, this::onDelete)
                .match(SaveSnapshotSuccess.class, s -> {
                    // Everything up to the snapshot is in it: drop older events and snapshots.
                    deleteMessages(s.metadata().sequenceNr());
                    deleteSnapshots(SnapshotSelectionCriteria.create(s.metadata().sequenceNr() - 1, Long.MAX_VALUE));
                })
                .match(SaveSnapshotFailure.class, f -> log.warning("Replica {}: snapshot failed: {}", key, f.cause().toString()))
                .match(DeleteMessagesSuccess.class, d -> {
                    messagesDeleted = true;
                    maybeDeleted();
                })
                .match(DeleteSnapshotsSuccess.class, d -> {
                    snapshotsDeleted = true;
                    maybeDeleted();
                })
                .match(DeleteMessagesFailure.class, f -> log.warning("Replica {}: deleting events failed: {}", key, f.cause().toString()))
                .match(DeleteSnapshotsFailure.class, f -> log.warning("Replica {}: deleting snapshots failed: {}", key, f.cause().toString()))
                .build();
    }

    private void onEnvelope(VnodeEnvelope env) {
        switch (env.getBodyCase()) {
            case COORDINATE -> coordinate(env);
            case REPLICATE -> replicate(env);
            case REPLICATE_ACK -> ack(env.getRequestId());
            case READ -> {
                var rec = state.get(env.getRead().getKey());
                ReadReply.Builder r = ReadReply.newBuilder().setFound(rec.isPresent());
                rec.ifPresent(r::setRecord);
                transport.reply(env, VnodeEnvelope.newBuilder().setReadReply(r), getSelf());
            }
            case SYNC_REQUEST -> {
                int max = Math.max(1, env.getSyncRequest().getMaxRecords());
                transport.reply(env, VnodeEnvelope.newBuilder().setSyncBatch(
                        page(state.fold(env.getSyncRequest().getAfterKey(), max), max, settings.handoffBatchBytes())), getSelf());
            }
            case DIGEST_REQUEST -> {
                transport.reply(env, VnodeEnvelope.newBuilder().setDigestReply(state.digest().toReply()), getSelf());
            }
            case BUCKET_REQUEST -> {
                BucketRequest req = env.getBucketRequest();
                BitSet wanted = new BitSet(Digest.BUCKETS);
                req.getBucketsList().forEach(wanted::set);
                int max = Math.max(1, req.getMaxRecords());
                transport.reply(env, VnodeEnvelope.newBuilder().setSyncBatch(
                        page(state.inBuckets(wanted, req.getAfterKey(), max), max, settings.handoffBatchBytes())), getSelf());
            }
            default -> transport.reply(env, VnodeEnvelope.newBuilder().setFailure(Failure.newBuilder()
                    .setCode(Failure.Code.BAD_REQUEST)
                    .setMessage("replica " + key + " does not handle " + env.getBodyCase())), getSelf());
        }
    }

    private void coordinate(VnodeEnvelope env) {
        var c = env.getCoordinate();
        VnodeReplicaState.Handled handled;
        try {
            handled = state.handle(c.getKey(), c.getCommand());
        } catch (IllegalArgumentException e) {
            transport.reply(env, failure(Failure.Code.BAD_REQUEST, e.getMessage()), getSelf());
            return;
        }
        int w = Math.max(1, c.getW());
        if (handled.changed().isEmpty()) {
            // Nothing new to store (the command changed nothing): every replica already agrees with it.
            transport.reply(env, VnodeEnvelope.newBuilder().setWriteReply(
                    WriteReply.newBuilder().setReply(handled.reply()).setAcks(w)), getSelf());
            return;
        }
        long id = ++nextWriteId;
        int sent = 0;
        VnodeEnvelope replicateMsg = key.envelope(env.getRingEpoch())
                .setReplyTo(transport.path(getSelf())).setRequestId(id)
                .setReplicate(Replicate.newBuilder().addAllRecords(handled.changed()).setAck(true))
                .build();
        for (String node : c.getReplicasList()) {
            if (transport.send(node, replicateMsg, getSelf())) {
                sent++;
            }
        }
        PendingWrite p = new PendingWrite(env, handled.reply(), w, 1 + sent);
        p.timer = getContext().getSystem().scheduler().scheduleOnce(settings.requestTimeout(), getSelf(),
                new WriteTimeout(id), getContext().getDispatcher(), getSelf());
        pending.put(id, p);
        persistAsync(RecordsChanged.newBuilder().addAllRecords(handled.changed()).build(), e -> {
            afterPersist();
            ack(id);
        });
    }

    private void replicate(VnodeEnvelope env) {
        List<Record> changed = new ArrayList<>();
        for (Record r : env.getReplicate().getRecordsList()) {
            if (state.merge(r)) {
                // Journal the merged value: replaying it reproduces this state whatever came before.
                state.get(r.getKey()).ifPresent(changed::add);
            }
        }
        boolean ack = env.getReplicate().getAck();
        if (changed.isEmpty()) {
            if (ack) {
                transport.reply(env, VnodeEnvelope.newBuilder().setReplicateAck(ReplicateAck.getDefaultInstance()), getSelf());
            }
            return;
        }
        persistAsync(RecordsChanged.newBuilder().addAllRecords(changed).build(), e -> {
            afterPersist();
            if (ack) {
                transport.reply(env, VnodeEnvelope.newBuilder().setReplicateAck(ReplicateAck.getDefaultInstance()), getSelf());
            }
        });
    }

    private void ack(long id) {
        PendingWrite p = pending.get(id);
        if (p == null) {
            return; // answered already (quorum reached or timed out)
        }
        p.acks++;
        if (p.acks >= p.w) {
            finish(id, p, VnodeEnvelope.newBuilder().setWriteReply(
                    WriteReply.newBuilder().setReply(p.reply).setAcks(p.acks)));
        } else if (p.acks == p.reachable) {
            finish(id, p, failure(Failure.Code.TIMEOUT, String.format(
                    "write to %s was persisted by %d of the %d replicas required: only %d replica%s reachable",
                    key, p.acks, p.w, p.reachable, p.reachable == 1 ? " is" : "s are")));
        }
    }

    private void onWriteTimeout(long id) {
        PendingWrite p = pending.get(id);
        if (p != null) {
            finish(id, p, failure(Failure.Code.TIMEOUT, String.format(
                    "write to %s was persisted by %d of the %d replicas required within %s",
                    key, p.acks, p.w, settings.requestTimeout())));
        }
    }

    private void finish(long id, PendingWrite p, VnodeEnvelope.Builder reply) {
        pending.remove(id);
        p.timer.cancel();
        transport.reply(p.request, reply, getSelf());
    }

    private static VnodeEnvelope.Builder failure(Failure.Code code, String message) {
        return VnodeEnvelope.newBuilder().setFailure(Failure.newBuilder().setCode(code).setMessage(message));
    }

    private void afterPersist() {
        if (++eventsSinceSnapshot >= settings.snapshotEvery()) {
            eventsSinceSnapshot = 0;
            List<Record> all = state.fold("", Integer.MAX_VALUE);
            saveSnapshot(ReplicaSnapshot.newBuilder().addAllRecords(all).build());
        }
    }

    private void onDelete(Delete d) {
        if (d.expected() != null && !d.expected().equals(state.digest())) {
            d.replyTo().tell(new DeleteRefused(key, getSelf()), getSelf());
            return;
        }
        deleteRequester = d.replyTo();
        messagesDeleted = false;
        snapshotsDeleted = false;
        deleteMessages(lastSequenceNr());
        deleteSnapshots(SnapshotSelectionCriteria.latest());
    }

    private void maybeDeleted() {
        if (deleteRequester != null && messagesDeleted && snapshotsDeleted) {
            log.info("Replica {} deleted ({} records now held by the vnode's preference list)", key, state.size());
            state = service.newReplica(key.vnode());
            deleteRequester.tell(new Deleted(key, getSelf()), getSelf());
            deleteRequester = null;
        }
    }

    /**
     * A batch of {@code candidates} (up to {@code max} records in key order) cut to {@code maxBytes} so it
     * fits one cluster message; at least one record. Done only when no record was cut and fewer than
     * {@code max} were found.
     */
    static SyncBatch page(List<Record> candidates, int max, int maxBytes) {
        SyncBatch.Builder b = SyncBatch.newBuilder();
        int bytes = 0;
        for (Record r : candidates) {
            int size = r.getSerializedSize() + 8;
            if (b.getRecordsCount() > 0 && bytes + size > maxBytes) {
                break;
            }
            b.addRecords(r);
            bytes += size;
        }
        boolean cut = b.getRecordsCount() < candidates.size();
        b.setDone(!cut && candidates.size() < max);
        if (b.getRecordsCount() > 0) {
            b.setLastKey(b.getRecords(b.getRecordsCount() - 1).getKey());
        }
        return b.build();
    }
}
