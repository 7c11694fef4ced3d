package io.smalti.harness.sdk;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hands work from the reader thread to the executor in batches: tasks go into one bounded queue, drained by
 * at most {@code parallelism} executor tasks at a time. Under load a drainer runs many handlers per executor
 * hand-off (submitting one executor task per frame costs a thread wake-up each, which capped throughput);
 * when idle, each task still starts at once. Thread-safe.
 */
final class Dispatcher {
    private final Executor executor;
    private final int parallelism;
    private final int capacity;
    private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger drainers = new AtomicInteger();

    Dispatcher(Executor executor, int parallelism, int capacity) {
        this.executor = executor;
        this.parallelism = parallelism;
        this.capacity = capacity;
    }

    /** Queues {@code task}; false when the queue is full or the executor refuses (the task will not run). */
    boolean submit(Runnable task) {
        if (queued.incrementAndGet() > capacity) {
            queued.decrementAndGet();
            return false;
        }
        queue.offer(task);
        while (true) {
            int d = drainers.get();
            if (d >= parallelism) {
                return true; // a running drainer will find it: drainers re-check the queue before leaving
            }
            if (drainers.compareAndSet(d, d + 1)) {
                break;
            }
        }
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException e) {
            drainers.decrementAndGet();
            if (queue.remove(task)) {
                queued.decrementAndGet();
                return false;
            }
        }
        return true;
    }

    private void drain() {
        while (true) {
            Runnable task;
            while ((task = queue.poll()) != null) {
                queued.decrementAndGet();
                try {
                    task.run();
                } catch (RuntimeException e) {
                    System.getLogger(Dispatcher.class.getName()).log(System.Logger.Level.WARNING, "handler failed", e);
                }
            }
            drainers.decrementAndGet();
            // A task queued after our last poll but while we still counted as a drainer may have seen no room
            // for a new drainer: take it back on if so.
            if (queue.isEmpty()) {
                return;
            }
            int d = drainers.get();
            if (d >= parallelism || !drainers.compareAndSet(d, d + 1)) {
                return;
            }
        }
    }
}
