package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.Coordinate;
import io.smalti.protocol.vnode.Failure;
import io.smalti.protocol.vnode.Read;
import io.smalti.protocol.vnode.Record;
import io.smalti.protocol.vnode.Replicate;
import io.smalti.protocol.vnode.VnodeEnvelope;
import io.smalti.ring.PreferenceList;
import io.smalti.ring.Ring;
import io.smalti.ring.cluster.RingView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.ActorRef;

/**
 * Reads and writes records of ring services from this node: the API other agents (and the REST API)
 * use. A write goes to the first available replica of the key's preference list (its coordinator), which
 * answers once W replicas have journaled it; a read asks every available replica, merges the first R
 * answers, and afterwards repairs any replica whose answer was stale. Unavailable preference-list
 * nodes are replaced by fallbacks. W and R are capped at the preference list's length, which is smaller
 * than N only while the ring has fewer than N owners. Thread-safe; calls never block.
 */
public final class VnodeClient {

    /** @param acks replicas that journaled the write, the coordinator included */
    public record WriteResult(ByteString reply, int acks, String coordinator, int vnode) {}

    /** @param value the merged value, empty if no replica that answered has the key */
    public record ReadResult(Optional<ByteString> value, int answered, int vnode) {}

    /** A read or write that failed: {@link #code()} says how, the message what and where. */
    public static final class VnodeException extends RuntimeException {
        private final Failure.Code code;

        public VnodeException(Failure.Code code, String message) {
            super(message);
            this.code = code;
        }

        public Failure.Code code() {
            return code;
        }
    }

    private final VnodeTransport transport;
    private final RingView ringView;
    private final Map<String, VnodeService> services;
    private final VnodeSettings settings;

    VnodeClient(VnodeTransport transport, RingView ringView, Map<String, VnodeService> services, VnodeSettings settings) {
        this.transport = transport;
        this.ringView = ringView;
        this.services = services;
        this.settings = settings;
    }

    public VnodeSettings settings() {
        return settings;
    }

    /** Which vnode holds {@code key} in the current ring, if there is one. */
    public Optional<Integer> vnodeOf(String key) {
        return ringView.current().map(r -> KeySpace.vnode(r, key));
    }

    public CompletionStage<WriteResult> write(String service, String key, ByteString command) {
        return write(service, key, command, settings.writeQuorum());
    }

    public CompletionStage<WriteResult> write(String service, String key, ByteString command, int w) {
        Target t;
        try {
            t = target(service, key);
        } catch (VnodeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Ring ring = t.ring();
        int vnode = t.vnode();
        List<PreferenceList.Replica> replicas = t.replicas();
        if (replicas.isEmpty()) {
            return CompletableFuture.failedFuture(new VnodeException(Failure.Code.NOT_SERVING,
                    "no replica of " + service + "/" + vnode + " is available"));
        }
        PreferenceList.Replica coordinator = replicas.get(0);
        // A ring with fewer owners than W cannot hold W replicas (a one-node cluster holds one): ask for what it can.
        int quorum = Math.min(w, ring.preferenceList(vnode).replicas().size());
        Coordinate.Builder c = Coordinate.newBuilder().setKey(key).setCommand(command).setW(quorum)
                .setFallback(coordinator.role() == PreferenceList.Role.FALLBACK);
        replicas.subList(1, replicas.size()).forEach(r -> c.addReplicas(r.node()));
        // The coordinator gives up at request-timeout; allow for the hop back.
        Duration timeout = settings.requestTimeout().plusSeconds(1);
        return transport.ask(coordinator.node(), path -> envelope(service, vnode, ring, path).setCoordinate(c).build(), timeout)
                .handle((reply, err) -> {
                    if (err != null) {
                        throw unwrap(err, "write of " + service + "/" + vnode + " via " + coordinator.node());
                    }
                    if (reply.hasFailure()) {
                        throw new VnodeException(reply.getFailure().getCode(), reply.getFailure().getMessage());
                    }
                    return new WriteResult(reply.getWriteReply().getReply(), reply.getWriteReply().getAcks(),
                            coordinator.node(), vnode);
                });
    }

    public CompletionStage<ReadResult> read(String service, String key) {
        return read(service, key, settings.readQuorum());
    }

    public CompletionStage<ReadResult> read(String service, String key, int r) {
        Target t;
        try {
            t = target(service, key);
        } catch (VnodeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Ring ring = t.ring();
        int vnode = t.vnode();
        List<PreferenceList.Replica> replicas = t.replicas();
        int quorum = Math.min(r, ring.preferenceList(vnode).replicas().size());
        if (replicas.size() < quorum) {
            return CompletableFuture.failedFuture(new VnodeException(Failure.Code.NOT_SERVING,
                    "only " + replicas.size() + " replica(s) of " + service + "/" + vnode + " are available; R=" + quorum));
        }
        ReadQuorum q = new ReadQuorum(services.get(service), service, key, vnode, quorum, replicas.size());
        for (PreferenceList.Replica replica : replicas) {
            transport.ask(replica.node(), path -> envelope(service, vnode, ring, path)
                            .setRead(Read.newBuilder().setKey(key)).build(), settings.requestTimeout())
                    .whenComplete((reply, err) -> q.answer(replica.node(), reply, err));
        }
        q.all.thenAccept(answers -> repair(ring, service, vnode, key, q.merged(), answers));
        return q.result;
    }

    /** Sends the merged record to every replica whose answer lacked or differed from it. */
    private void repair(Ring ring, String service, int vnode, String key, ByteString merged, List<ReadQuorum.Answer> answers) {
        if (merged == null) {
            return;
        }
        VnodeEnvelope fix = envelope(service, vnode, ring, "")
                .setReplicate(Replicate.newBuilder().addRecords(Record.newBuilder().setKey(key).setValue(merged)))
                .build();
        for (ReadQuorum.Answer a : answers) {
            if (a.ok() && !merged.equals(a.value())) {
                transport.send(a.node(), fix, ActorRef.noSender());
            }
        }
    }

    /** Where a key's requests go: the ring, the key's vnode, and its available replicas (coordinator first). */
    private record Target(Ring ring, int vnode, List<PreferenceList.Replica> replicas) {}

    private Target target(String service, String key) {
        Ring ring = ringFor(service, key);
        int vnode = KeySpace.vnode(ring, key);
        return new Target(ring, vnode, Routing.replicas(ring, vnode, transport.members()));
    }

    private Ring ringFor(String service, String key) {
        if (!services.containsKey(service)) {
            throw new VnodeException(Failure.Code.UNKNOWN_SERVICE, "no ring service '" + service + "' (services: "
                    + services.keySet() + ")");
        }
        if (key == null || key.isEmpty()) {
            throw new VnodeException(Failure.Code.BAD_REQUEST, "a record key must not be empty");
        }
        return ringView.current().orElseThrow(() -> new VnodeException(Failure.Code.NOT_SERVING,
                "node " + transport.selfName() + " has no ring yet: it has not joined a cluster"));
    }

    private static VnodeEnvelope.Builder envelope(String service, int vnode, Ring ring, String replyTo) {
        return new ReplicaKey(service, vnode).envelope(ring.epoch()).setReplyTo(replyTo);
    }

    static VnodeException unwrap(Throwable err, String what) {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof VnodeException v) {
            return v;
        }
        if (cause instanceof TimeoutException || cause instanceof org.apache.pekko.pattern.AskTimeoutException) {
            return new VnodeException(Failure.Code.TIMEOUT, what + " got no answer in time");
        }
        return new VnodeException(Failure.Code.NOT_SERVING, what + " failed: " + cause.getMessage());
    }

    /** Collects the answers of one read; completes {@link #result} at R answers and {@link #all} when all are in. */
    private static final class ReadQuorum {
        record Answer(String node, boolean ok, ByteString value, String error) {}

        final CompletableFuture<ReadResult> result = new CompletableFuture<>();
        final CompletableFuture<List<Answer>> all = new CompletableFuture<>();
        private final VnodeService service;
        private final String serviceName;
        private final String key;
        private final int vnode;
        private final int r;
        private final int asked;
        private final List<Answer> answers = new ArrayList<>();
        private int ok;

        ReadQuorum(VnodeService service, String serviceName, String key, int vnode, int r, int asked) {
            this.service = service;
            this.serviceName = serviceName;
            this.key = key;
            this.vnode = vnode;
            this.r = r;
            this.asked = asked;
        }

        synchronized void answer(String node, VnodeEnvelope reply, Throwable err) {
            Answer a;
            if (err != null) {
                a = new Answer(node, false, null, unwrap(err, "read from " + node).getMessage());
            } else if (reply.hasFailure()) {
                a = new Answer(node, false, null, node + ": " + reply.getFailure().getMessage());
            } else {
                var rr = reply.getReadReply();
                a = new Answer(node, true, rr.getFound() ? rr.getRecord().getValue() : null, null);
                ok++;
            }
            answers.add(a);
            if (ok == r && !result.isDone()) {
                result.complete(new ReadResult(Optional.ofNullable(merged()), ok, vnode));
            }
            if (answers.size() == asked) {
                if (!result.isDone()) {
                    List<String> errors = answers.stream().filter(x -> !x.ok()).map(Answer::error).toList();
                    result.completeExceptionally(new VnodeException(Failure.Code.TIMEOUT, String.format(
                            "read of %s/%d: %d of the %d replicas required answered (%s)",
                            serviceName, vnode, ok, r, String.join("; ", errors))));
                }
                all.complete(List.copyOf(answers));
            }
        }

        synchronized ByteString merged() {
            ByteString m = null;
            for (Answer a : answers) {
                if (a.ok() && a.value() != null) {
                    m = m == null ? a.value() : service.merge(key, m, a.value());
                }
            }
            return m;
        }
    }
}
