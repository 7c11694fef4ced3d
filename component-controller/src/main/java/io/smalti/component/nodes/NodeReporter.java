package io.smalti.component.nodes;

import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.node.controller.NodeMetrics;
import io.smalti.protocol.component.NodeStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Publishes this node's status (life-cycle state and /proc metrics) in the ring at a fixed interval, for
 * the scheduler on other nodes and for operators. Thread-safe; runs on its own thread.
 */
public final class NodeReporter implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NodeReporter.class);

    /** The node's life-cycle state and why, as text. */
    public record State(String state, String reason) {}

    private final String self;
    private final ComponentRecords records;
    private final Supplier<NodeMetrics> metrics;
    private final Supplier<State> state;
    private final String driver;
    private final ScheduledExecutorService timer;
    private final AtomicReference<NodeStatus> latest = new AtomicReference<>();

    public NodeReporter(String self, ComponentRecords records, Supplier<NodeMetrics> metrics, Supplier<State> state,
                        String driver, Duration every) {
        this.self = self;
        this.records = records;
        this.metrics = metrics;
        this.state = state;
        this.driver = driver;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "node-reporter");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::publish, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last status this node published. */
    public Optional<NodeStatus> latest() {
        return Optional.ofNullable(latest.get());
    }

    /** Publishes now (after a state change) instead of at the next interval. */
    public void publishNow() {
        timer.execute(this::publish);
    }

    private void publish() {
        try {
            NodeMetrics m = metrics.get();
            State s = state.get();
            NodeStatus status = NodeStatus.newBuilder()
                    .setName(self).setState(s.state()).setReason(s.reason() == null ? "" : s.reason())
                    .setAtMillis(m.at().toEpochMilli()).setCpus(m.cpus()).setCpuBusy(m.cpuBusy())
                    .setMemTotalBytes(m.memTotalBytes()).setMemAvailableBytes(m.memAvailableBytes())
                    .setLoad1(m.load1()).setLoad5(m.load5()).setLoad15(m.load15())
                    .setDiskTotalBytes(m.diskTotalBytes()).setDiskFreeBytes(m.diskFreeBytes())
                    .setNetRxBytesPerSec(m.netRxBytesPerSec()).setNetTxBytesPerSec(m.netTxBytesPerSec())
                    .setDriver(driver)
                    .build();
            latest.set(status);
            records.put(ComponentKeys.node(self), status).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("Node status not published: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
