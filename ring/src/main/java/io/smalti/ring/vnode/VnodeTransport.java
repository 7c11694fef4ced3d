package io.smalti.ring.vnode;

import io.smalti.protocol.vnode.VnodeEnvelope;
import io.smalti.ring.cluster.ClusterMembers;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.pattern.Patterns;

/**
 * How the vnode framework reaches other nodes: every node runs its vnode host at {@value #HOST_PATH};
 * a node name resolves to that actor through the cluster membership. Envelopes name their reply actor
 * by its serialized path. Thread-safe.
 */
public final class VnodeTransport {
    public static final String HOST_NAME = "vnodes";
    public static final String HOST_PATH = "/user/" + HOST_NAME;

    private final ExtendedActorSystem system;
    private final ClusterMembers members;
    private final ConcurrentHashMap<Address, ActorRef> hosts = new ConcurrentHashMap<>();
    /** Resolved reply paths of long-lived actors (replicas): resolving parses a URI. */
    private final ConcurrentHashMap<String, ActorRef> resolved = new ConcurrentHashMap<>();

    public VnodeTransport(ActorSystem system, ClusterMembers members) {
        this.system = (ExtendedActorSystem) system;
        this.members = members;
    }

    public ClusterMembers members() {
        return members;
    }

    public String selfName() {
        return members.selfName();
    }

    /** The vnode host of a node, if the node is a member. */
    public Optional<ActorRef> host(String node) {
        return members.get(node).map(n -> hosts.computeIfAbsent(n.address(),
                a -> system.provider().resolveActorRef(a.toString() + HOST_PATH)));
    }

    /** The path to put in an envelope's {@code reply_to}: with this node's address, so remote nodes can use it. */
    public String path(ActorRef ref) {
        return ref.path().toSerializationFormatWithAddress(system.provider().getDefaultAddress());
    }

    public ActorRef resolve(String path) {
        if (path.contains("/temp/")) {
            return system.provider().resolveActorRef(path);
        }
        ActorRef ref = resolved.get(path);
        if (ref == null) {
            if (resolved.size() > 100_000) {
                resolved.clear(); // replicas come and go; keep the cache bounded
            }
            ref = system.provider().resolveActorRef(path);
            resolved.put(path, ref);
        }
        return ref;
    }

    /** Sends to a node's host; false when the node is not a member. */
    public boolean send(String node, VnodeEnvelope envelope, ActorRef sender) {
        Optional<ActorRef> host = host(node);
        host.ifPresent(h -> h.tell(envelope, sender));
        return host.isPresent();
    }

    /** Replies to an envelope's {@code reply_to}, echoing its service, vnode and request id. */
    public void reply(VnodeEnvelope request, VnodeEnvelope.Builder reply, ActorRef sender) {
        if (request.getReplyTo().isEmpty()) {
            return;
        }
        resolve(request.getReplyTo()).tell(reply.setService(request.getService()).setVnode(request.getVnode())
                .setRequestId(request.getRequestId()).build(), sender);
    }

    /**
     * Sends an envelope built around a temporary reply actor and completes with the reply; fails with
     * {@link java.util.concurrent.TimeoutException} after {@code timeout}, or at once if the node is not a
     * member.
     */
    public CompletionStage<VnodeEnvelope> ask(String node, Function<String, VnodeEnvelope> build, Duration timeout) {
        Optional<ActorRef> host = host(node);
        if (host.isEmpty()) {
            return CompletableFuture.failedFuture(new NotAMemberException(node));
        }
        return ask(host.get(), build, timeout);
    }

    public CompletionStage<VnodeEnvelope> ask(ActorRef target, Function<String, VnodeEnvelope> build, Duration timeout) {
        return adopt(Patterns.askWithReplyTo(target, replyTo -> build.apply(path(replyTo)), timeout))
                .thenApply(VnodeEnvelope.class::cast);
    }

    /**
     * A plain future completed on the actor system's dispatcher with the outcome of {@code stage}. Chain
     * on Pekko's futures only through this: they run every continuation asynchronously on the JDK's
     * default executor, which on a machine with two cores or fewer starts a new thread per task.
     */
    public <T> CompletableFuture<T> adopt(CompletionStage<T> stage) {
        return adopt(stage, system.dispatcher());
    }

    /** {@link #adopt(CompletionStage)} for callers without a transport. */
    public static <T> CompletableFuture<T> adopt(CompletionStage<T> stage, java.util.concurrent.Executor executor) {
        CompletableFuture<T> out = new CompletableFuture<>();
        stage.whenCompleteAsync((value, err) -> {
            if (err != null) {
                out.completeExceptionally(err);
            } else {
                out.complete(value);
            }
        }, executor);
        return out;
    }

    /** The node is not (or no longer) a cluster member. */
    public static final class NotAMemberException extends RuntimeException {
        public NotAMemberException(String node) {
            super("node " + node + " is not a cluster member");
        }
    }
}
