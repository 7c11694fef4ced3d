package io.smalti.ring.vnode;

import io.smalti.protocol.vnode.BucketRequest;
import io.smalti.protocol.vnode.DigestRequest;
import io.smalti.protocol.vnode.Failure;
import io.smalti.protocol.vnode.ReadyQuery;
import io.smalti.protocol.vnode.Record;
import io.smalti.protocol.vnode.Replicate;
import io.smalti.protocol.vnode.SyncBatch;
import io.smalti.protocol.vnode.SyncRequest;
import io.smalti.protocol.vnode.VnodeEnvelope;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.ActorRef;

/**
 * One replica of a vnode as handoff and anti-entropy talk to it: this node's (through its host) or
 * another node's. Each call is one request, answered within the timeout; a replica's refusal fails the
 * stage with {@link Refused}. Immutable and thread-safe.
 */
final class ReplicaPeer {
    private final VnodeTransport transport;
    private final ReplicaKey key;
    private final long ringEpoch;
    private final Duration timeout;
    private final String node;
    private final ActorRef host;

    private ReplicaPeer(VnodeTransport transport, ReplicaKey key, long ringEpoch, Duration timeout, String node,
                        ActorRef host) {
        this.transport = transport;
        this.key = key;
        this.ringEpoch = ringEpoch;
        this.timeout = timeout;
        this.node = node;
        this.host = host;
    }

    /** The replica on this node, reached through its vnode host. */
    static ReplicaPeer local(VnodeTransport transport, ActorRef host, ReplicaKey key, long ringEpoch, Duration timeout) {
        return new ReplicaPeer(transport, key, ringEpoch, timeout, null, host);
    }

    /** The replica on {@code node}. */
    static ReplicaPeer on(VnodeTransport transport, String node, ReplicaKey key, long ringEpoch, Duration timeout) {
        return new ReplicaPeer(transport, key, ringEpoch, timeout, node, null);
    }

    /** True when it holds the whole replica (it is not still receiving a handoff). */
    CompletionStage<Boolean> ready() {
        return ask(b -> b.setReadyQuery(ReadyQuery.getDefaultInstance()))
                .thenApply(r -> r.hasReadyReply() && r.getReadyReply().getReady());
    }

    CompletionStage<Digest> digest() {
        return answer(b -> b.setDigestRequest(DigestRequest.getDefaultInstance())).thenApply(r -> Digest.of(r.getDigestReply()));
    }

    /** Up to {@code max} records after {@code afterKey}, in key order. */
    CompletionStage<SyncBatch> sync(String afterKey, int max) {
        return answer(b -> b.setSyncRequest(SyncRequest.newBuilder().setAfterKey(afterKey).setMaxRecords(max)))
                .thenApply(VnodeEnvelope::getSyncBatch);
    }

    /** One page of the records in some digest buckets. */
    CompletionStage<SyncBatch> bucketPage(BucketRequest request) {
        return answer(b -> b.setBucketRequest(request)).thenApply(VnodeEnvelope::getSyncBatch);
    }

    /** Merges records into the replica; completes once it has journaled them. */
    CompletionStage<VnodeEnvelope> store(List<Record> records) {
        return answer(b -> b.setReplicate(Replicate.newBuilder().addAllRecords(records).setAck(true)));
    }

    private CompletionStage<VnodeEnvelope> answer(Function<VnodeEnvelope.Builder, VnodeEnvelope.Builder> body) {
        return ask(body).thenCompose(reply -> reply.hasFailure()
                ? CompletableFuture.failedFuture(new Refused(reply.getFailure()))
                : CompletableFuture.completedFuture(reply));
    }

    private CompletionStage<VnodeEnvelope> ask(Function<VnodeEnvelope.Builder, VnodeEnvelope.Builder> body) {
        Function<String, VnodeEnvelope> build = replyTo -> body.apply(key.envelope(ringEpoch).setReplyTo(replyTo)).build();
        return node == null ? transport.ask(host, build, timeout) : transport.ask(node, build, timeout);
    }

    /** The replica answered with a failure (with its reason). */
    static final class Refused extends RuntimeException {
        Refused(Failure failure) {
            super(failure.getMessage().isEmpty() ? failure.getCode().toString() : failure.getMessage());
        }
    }
}
