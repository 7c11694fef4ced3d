package io.smalti.ring.vnode;

import io.smalti.protocol.vnode.BucketRequest;
import io.smalti.protocol.vnode.Record;
import io.smalti.protocol.vnode.SyncBatch;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Copies the records of some digest buckets from one replica to another a page at a time (each page one
 * cluster message, bounded in records and bytes), storing each page before asking for the next. Used by
 * anti-entropy and by a former holder reconciling with the new ones. Stateless; the stages complete on
 * whatever thread completes {@code fetch} and {@code store}.
 */
final class BucketCopy {
    private BucketCopy() {}

    /** Copies the buckets' records from one replica to another; completes with the number copied. */
    static CompletionStage<Long> copy(BitSet buckets, int pageSize, ReplicaPeer from, ReplicaPeer to) {
        return copy(buckets, pageSize, from::bucketPage, to::store);
    }

    /**
     * @param fetch asks the source for one page of the buckets' records
     * @param store hands one page to the destination; completes once it is persisted there
     * @return the number of records copied
     */
    static CompletionStage<Long> copy(BitSet buckets, int pageSize, Function<BucketRequest, CompletionStage<SyncBatch>> fetch,
                                      Function<List<Record>, CompletionStage<?>> store) {
        return step(buckets, pageSize, "", 0, fetch, store);
    }

    private static CompletionStage<Long> step(BitSet buckets, int pageSize, String afterKey, long copied,
                                              Function<BucketRequest, CompletionStage<SyncBatch>> fetch,
                                              Function<List<Record>, CompletionStage<?>> store) {
        BucketRequest.Builder req = BucketRequest.newBuilder().setAfterKey(afterKey).setMaxRecords(pageSize);
        buckets.stream().forEach(req::addBuckets);
        return fetch.apply(req.build()).thenCompose(page -> {
            if (page.getRecordsCount() == 0) {
                return CompletableFuture.completedFuture(copied);
            }
            long total = copied + page.getRecordsCount();
            return store.apply(page.getRecordsList()).thenCompose(stored -> page.getDone()
                    ? CompletableFuture.completedFuture(total)
                    : step(buckets, pageSize, page.getLastKey(), total, fetch, store));
        });
    }
}
