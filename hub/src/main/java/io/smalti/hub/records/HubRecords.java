package io.smalti.hub.records;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.protocol.hub.GroupMember;
import io.smalti.protocol.hub.HubCommand;
import io.smalti.protocol.hub.HubCommandReply;
import io.smalti.protocol.hub.Location;
import io.smalti.protocol.hub.UpdateAttributes;
import io.smalti.ring.crdt.LwwRegister;
import io.smalti.ring.crdt.OrSet;
import io.smalti.ring.vnode.VnodeClient;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * Typed access to the {@link HubService} records through the vnode framework: writes go to the key's
 * primary and are acknowledged by W replicas, reads merge R replicas. Thread-safe.
 */
public final class HubRecords {
    private final VnodeClient client;

    public HubRecords(VnodeClient client) {
        this.client = client;
    }

    /**
     * Session {@code session} of {@code component} joins {@code group} (see {@code HubCommand.join}); completes
     * with the group's member count after it.
     */
    public CompletionStage<Integer> addMember(String group, String component, long session) {
        return write(HubKeys.members(group), HubCommand.newBuilder().setJoin(member(component, session)))
                .thenCompose(n -> write(HubKeys.GROUP_INDEX, HubCommand.newBuilder().setAddMember(group)).thenApply(x -> n));
    }

    /**
     * Session {@code session} of {@code component} leaves {@code group}, a later session of it stays a member;
     * completes with the group's member count after it.
     */
    public CompletionStage<Integer> removeMember(String group, String component, long session) {
        return write(HubKeys.members(group), HubCommand.newBuilder().setLeave(member(component, session)));
    }

    private static GroupMember member(String component, long session) {
        return GroupMember.newBuilder().setComponent(component).setSession(session).build();
    }

    /** The components that are members of {@code group}. */
    public CompletionStage<Set<String>> members(String group) {
        return client.read(HubService.NAME, HubKeys.members(group)).thenApply(r -> r.value()
                .map(v -> HubService.components(OrSet.fromBytes(v))).orElse(Set.of()));
    }

    /** Every group that has ever had a member (a group keeps its index entry when it empties). */
    public CompletionStage<Set<String>> groups() {
        return set(HubKeys.GROUP_INDEX);
    }

    /** Notes that {@code component} is connected to {@code location}'s node (for clean-up if it is lost). */
    public CompletionStage<Integer> addConnected(String component, Location location) {
        return write(HubKeys.connected(location.getNode()), HubCommand.newBuilder().setAddMember(connectedEntry(component, location)));
    }

    public CompletionStage<Integer> removeConnected(String component, Location location) {
        return write(HubKeys.connected(location.getNode()), HubCommand.newBuilder().setRemoveMember(connectedEntry(component, location)));
    }

    /** A component noted as connected to a node, and where exactly (the node and session). */
    public record Connected(String component, Location location) {}

    /** The components noted as connected to {@code node}, by any of its incarnations. */
    public CompletionStage<List<Connected>> connected(String node) {
        return set(HubKeys.connected(node)).thenApply(entries -> entries.stream().map(e -> {
            // <id>:<session>:<incarnation>, or <id>:<session> as written before incarnations were kept
            String[] parts = e.split(":", 3);
            return new Connected(parts[0], Location.newBuilder().setNode(node).setSession(Long.parseLong(parts[1]))
                    .setIncarnation(parts.length > 2 ? Long.parseLong(parts[2]) : 0).build());
        }).toList());
    }

    private static String connectedEntry(String component, Location location) {
        return location.getIncarnation() == 0 ? component + ":" + location.getSession()
                : component + ":" + location.getSession() + ":" + location.getIncarnation();
    }

    public CompletionStage<Void> setLocation(String component, Location location) {
        return write(HubKeys.location(component), HubCommand.newBuilder().setSetLocation(location)).thenApply(n -> null);
    }

    /** Clears the location if {@code location} is still the current one. */
    public CompletionStage<Void> clearLocation(String component, Location location) {
        return write(HubKeys.location(component), HubCommand.newBuilder().setClearLocation(location)).thenApply(n -> null);
    }

    public CompletionStage<Optional<Location>> location(String component) {
        return client.read(HubService.NAME, HubKeys.location(component)).thenApply(r -> r.value()
                .map(LwwRegister::fromBytes).filter(reg -> !reg.deleted()).map(HubService::location));
    }

    /** Adds a watcher entry ("kind:component") to a watchers key ({@link HubKeys#watchers} or group watchers). */
    public CompletionStage<Integer> addWatcher(String watchersKey, String entry) {
        return write(watchersKey, HubCommand.newBuilder().setAddWatcher(entry));
    }

    public CompletionStage<Integer> removeWatcher(String watchersKey, String entry) {
        return write(watchersKey, HubCommand.newBuilder().setRemoveWatcher(entry));
    }

    public CompletionStage<Set<String>> watchers(String watchersKey) {
        return set(watchersKey);
    }

    /** Sets and removes attributes of an attributes key ({@link HubKeys#attributes} or group attributes). */
    public CompletionStage<Void> updateAttributes(String attributesKey, Map<String, ByteString> set, List<String> remove) {
        return write(attributesKey, HubCommand.newBuilder().setUpdateAttributes(
                UpdateAttributes.newBuilder().putAllSet(set).addAllRemove(remove))).thenApply(n -> null);
    }

    public CompletionStage<Map<String, ByteString>> attributes(String attributesKey) {
        return client.read(HubService.NAME, attributesKey).thenApply(r -> r.value()
                .map(AttributeMap::fromBytes).orElse(AttributeMap.empty()).values());
    }

    private CompletionStage<Set<String>> set(String key) {
        return client.read(HubService.NAME, key).thenApply(r -> {
            Set<String> out = new TreeSet<>();
            r.value().ifPresent(v -> OrSet.fromBytes(v).elements().forEach(e -> out.add(e.toStringUtf8())));
            return out;
        });
    }

    private CompletionStage<Integer> write(String key, HubCommand.Builder cmd) {
        return client.write(HubService.NAME, key, cmd.build().toByteString()).thenApply(r -> {
            try {
                return HubCommandReply.parseFrom(r.reply()).getSize();
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("bad hub reply from " + r.coordinator() + ": " + e.getMessage());
            }
        });
    }
}
