package io.smalti.ring.vnode;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The {@code smalti.vnode} configuration section (documented in {@code reference.conf}).
 *
 * @param writeQuorum W: replicas that must persist a write before it is acknowledged
 * @param readQuorum R: replicas whose answers a read merges
 * @param requestTimeout how long a read or write waits for its quorum
 * @param snapshotEvery journal a replica snapshot after this many events
 * @param handoffBatch records per handoff batch
 * @param handoffBatchBytes most bytes of records in one batch (handoff, repair) so it fits a cluster message
 * @param handoffConcurrency inbound handoffs a node runs at once
 * @param handoffRetry how long to wait before retrying a failed handoff step
 * @param antiEntropyInterval pause between two anti-entropy exchanges of a node
 */
public record VnodeSettings(int writeQuorum, int readQuorum, Duration requestTimeout, int snapshotEvery,
                            int handoffBatch, int handoffBatchBytes, int handoffConcurrency, Duration handoffRetry,
                            Duration antiEntropyInterval) {
    public VnodeSettings {
        if (writeQuorum < 1 || readQuorum < 1) {
            throw new IllegalArgumentException("write and read quorums must be at least 1, got W=" + writeQuorum
                    + " R=" + readQuorum);
        }
        if (handoffBatch < 1 || handoffConcurrency < 1 || snapshotEvery < 1) {
            throw new IllegalArgumentException("handoff batch, handoff concurrency and snapshot-every must be positive");
        }
        if (handoffBatchBytes < 1024 || handoffBatchBytes > MAX_BATCH_BYTES) {
            throw new IllegalArgumentException("smalti.vnode.handoff.batch-bytes must be from 1 KiB to "
                    + MAX_BATCH_BYTES / 1024 + " KiB (a cluster message is at most 256 KiB), got " + handoffBatchBytes);
        }
    }

    /** Leaves room for the envelope in Artery's largest frame (pekko.remote.artery.advanced.maximum-frame-size). */
    static final int MAX_BATCH_BYTES = 224 * 1024;

    public static VnodeSettings from(Config config) {
        Config c = config.getConfig("smalti.vnode");
        return new VnodeSettings(c.getInt("write-quorum"), c.getInt("read-quorum"), c.getDuration("request-timeout"),
                c.getInt("snapshot-every"), c.getInt("handoff.batch-size"), c.getBytes("handoff.batch-bytes").intValue(),
                c.getInt("handoff.concurrency"),
                c.getDuration("handoff.retry-after"), c.getDuration("anti-entropy.interval"));
    }
}
