package io.smalti.ring.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.kv.Delete;
import io.smalti.protocol.kv.KvCommand;
import io.smalti.protocol.kv.KvWriteReply;
import io.smalti.protocol.kv.Put;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.vnode.VnodeClient;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Typed access to the {@link KvService} through a {@link VnodeClient}. Thread-safe. */
public final class KvClient {

    /** A stored value; {@code deleted} values have an empty {@code value}. */
    public record Value(ByteString value, long timestamp, String writer, boolean deleted, int vnode, int answered) {}

    /** An acknowledged write. */
    public record Written(long timestamp, int acks, String coordinator, int vnode) {}

    private final VnodeClient client;

    public KvClient(VnodeClient client) {
        this.client = client;
    }

    public CompletionStage<Written> put(String key, ByteString value, int w) {
        return write(key, KvCommand.newBuilder().setPut(Put.newBuilder().setValue(value)).build(), w);
    }

    public CompletionStage<Written> delete(String key, int w) {
        return write(key, KvCommand.newBuilder().setDelete(Delete.getDefaultInstance()).build(), w);
    }

    private CompletionStage<Written> write(String key, KvCommand cmd, int w) {
        return client.write(KvService.NAME, key, cmd.toByteString(), w).thenApply(r -> {
            try {
                return new Written(KvWriteReply.parseFrom(r.reply()).getTimestamp(), r.acks(), r.coordinator(), r.vnode());
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("bad kv reply from " + r.coordinator() + ": " + e.getMessage());
            }
        });
    }

    /** The key's value as R replicas see it merged; empty if none of them has it. */
    public CompletionStage<Optional<Value>> get(String key, int r) {
        return client.read(KvService.NAME, key, r).thenApply(res -> res.value().map(bytes -> {
            LwwRegister reg = LwwRegister.fromBytes(bytes);
            return new Value(reg.value(), reg.timestamp(), reg.node(), reg.deleted(), res.vnode(), res.answered());
        }));
    }
}
