package io.smalti.ring.cluster;

import com.typesafe.config.Config;
import io.smalti.ring.Ring;
import java.time.Duration;

/**
 * The {@code smalti.ring} configuration section (documented in {@code reference.conf}).
 *
 * @param size Q for a new cluster; a running cluster keeps the size its ring was created with
 * @param replicas N for a new cluster
 * @param retryInterval how often the claimant re-checks the ring against the membership
 * @param publishTimeout how long a ring publication waits for a majority of nodes
 * @param firstRingSettle how long a new cluster's membership must stay unchanged before its first ring
 */
public record RingSettings(int size, int replicas, Duration retryInterval, Duration publishTimeout,
                           Duration firstRingSettle) {
    public RingSettings {
        Ring.checkSize(size);
        Ring.checkReplicas(replicas, size);
    }

    public static RingSettings from(Config config) {
        Config c = config.getConfig("smalti.ring");
        return new RingSettings(c.getInt("size"), c.getInt("replicas"),
                c.getDuration("retry-interval"), c.getDuration("publish-timeout"), c.getDuration("first-ring-settle"));
    }
}
