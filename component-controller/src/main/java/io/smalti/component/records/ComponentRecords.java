package io.smalti.component.records;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.smalti.protocol.component.ComponentCommand;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.crdt.OrSet;
import io.smalti.ring.vnode.VnodeClient;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * Typed reads and writes of the components service's records through the vnode client (quorum writes
 * and reads). Thread-safe; calls never block.
 */
public final class ComponentRecords {
    private final VnodeClient client;
    private final java.util.List<java.util.function.Consumer<String>> written = new java.util.concurrent.CopyOnWriteArrayList<>();

    public ComponentRecords(VnodeClient client) {
        this.client = client;
    }

    /**
     * Calls {@code listener} with the key of each record written through here (put, add, remove), once the
     * write is acknowledged, on the thread that completes it (it must not block); {@link #putMetrics} excepted.
     * This node's instance agent and scaler react to it instead of polling; the node also tells the other
     * nodes with it.
     */
    public void onWritten(java.util.function.Consumer<String> listener) {
        written.add(listener);
    }

    public CompletionStage<Void> put(String key, MessageLite value) {
        return putBytes(key, value.toByteString());
    }

    /** Like {@link #put}, for a record rewritten only to refresh figures (usage): no {@link #onWritten} call. */
    public CompletionStage<Void> putMetrics(String key, MessageLite value) {
        return client.write(ComponentService.NAME, key, ComponentCommand.newBuilder().setPut(value.toByteString())
                .build().toByteString()).thenApply(r -> null);
    }

    public CompletionStage<Void> putBytes(String key, ByteString value) {
        return write(key, ComponentCommand.newBuilder().setPut(value).build());
    }

    public CompletionStage<Void> add(String key, String element) {
        return write(key, ComponentCommand.newBuilder().setAdd(element).build());
    }

    public CompletionStage<Void> remove(String key, String element) {
        return write(key, ComponentCommand.newBuilder().setRemove(element).build());
    }

    private CompletionStage<Void> write(String key, ComponentCommand command) {
        return client.write(ComponentService.NAME, key, command.toByteString()).thenApply(r -> {
            for (var listener : written) {
                try {
                    listener.accept(key);
                } catch (RuntimeException e) { // e.g. a closed agent's: the write itself succeeded
                    org.slf4j.LoggerFactory.getLogger(ComponentRecords.class).debug("A write listener failed: {}", e.toString());
                }
            }
            return null;
        });
    }

    /** A register's value, parsed; empty when the record does not exist. */
    public <T> CompletionStage<Optional<T>> get(String key, Parser<T> parser) {
        return getBytes(key).thenApply(v -> v.map(bytes -> {
            try {
                return parser.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("record " + key + " is not readable: " + e.getMessage(), e);
            }
        }));
    }

    public CompletionStage<Optional<ByteString>> getBytes(String key) {
        return getBytes(key, client.settings().readQuorum());
    }

    /**
     * A register's raw value read from {@code r} replicas: 1 is enough for content-addressed records (bundle
     * chunks), which never change and are checked against their digest.
     */
    public CompletionStage<Optional<ByteString>> getBytes(String key, int r) {
        return client.read(ComponentService.NAME, key, r).thenApply(res -> res.value()
                .map(LwwRegister::fromBytes)
                .filter(reg -> !reg.deleted())
                .map(LwwRegister::value));
    }

    /** A set's elements, sorted; empty when the record does not exist. */
    public CompletionStage<Set<String>> members(String key) {
        return client.read(ComponentService.NAME, key).thenApply(r -> {
            Set<String> out = new TreeSet<>();
            r.value().ifPresent(v -> OrSet.fromBytes(v).elements().forEach(e -> out.add(e.toStringUtf8())));
            return out;
        });
    }
}
