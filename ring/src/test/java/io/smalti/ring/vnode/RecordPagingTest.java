package io.smalti.ring.vnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.Record;
import io.smalti.protocol.vnode.SyncBatch;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Handoff and repair batches stay within one cluster message and page through every record. */
class RecordPagingTest {
    private static Record record(String key, int bytes) {
        return Record.newBuilder().setKey(key).setValue(ByteString.copyFrom(new byte[bytes])).build();
    }

    @Test
    void aBatchIsCutToTheByteBudgetButHoldsAtLeastOneRecord() {
        List<Record> big = List.of(record("a", 60_000), record("b", 60_000), record("c", 60_000), record("d", 60_000));
        SyncBatch page = ReplicaActor.page(big, 1000, 128 * 1024);
        assertEquals(2, page.getRecordsCount());
        assertFalse(page.getDone(), "records were cut, so more follow");
        assertEquals("b", page.getLastKey());
        assertTrue(page.getSerializedSize() < 128 * 1024);

        SyncBatch huge = ReplicaActor.page(List.of(record("x", 200_000)), 1000, 128 * 1024);
        assertEquals(1, huge.getRecordsCount(), "a record larger than the budget travels alone");
        assertTrue(huge.getDone());
    }

    @Test
    void aFullBatchIsNotTheLastAndAShortOneIs() {
        List<Record> three = List.of(record("a", 10), record("b", 10), record("c", 10));
        assertFalse(ReplicaActor.page(three, 3, 1 << 20).getDone());
        assertTrue(ReplicaActor.page(three, 4, 1 << 20).getDone());
        assertTrue(ReplicaActor.page(List.of(), 4, 1 << 20).getDone());
    }

    @Test
    void bucketCopyPagesThroughEveryRecordOfTheWantedBuckets() throws Exception {
        RecordMap source = new RecordMap((key, a, b) -> a.size() >= b.size() ? a : b,
                (key, current, command) -> new RecordMap.Outcome(command, ByteString.EMPTY));
        for (int i = 0; i < 500; i++) {
            source.merge(record("key-" + i, 3_000));
        }
        BitSet wanted = new BitSet();
        wanted.set(0, 32);
        long expected = source.fold("", 10_000).stream().filter(r -> wanted.get(Digest.bucketOf(r.getKey()))).count();
        List<Record> copied = new ArrayList<>();
        int[] pages = {0};
        long n = BucketCopy.copy(wanted, 1000, req -> {
            BitSet b = new BitSet();
            req.getBucketsList().forEach(b::set);
            return CompletableFuture.completedFuture(ReplicaActor.page(
                    source.inBuckets(b, req.getAfterKey(), req.getMaxRecords()), req.getMaxRecords(), 64 * 1024));
        }, records -> {
            pages[0]++;
            copied.addAll(records);
            return CompletableFuture.completedFuture(null);
        }).toCompletableFuture().get();
        assertEquals(expected, n);
        assertEquals(expected, copied.size());
        assertEquals(expected, copied.stream().map(Record::getKey).distinct().count(), "no record twice");
        assertTrue(pages[0] >= expected * 3_000 / (64 * 1024), "pages of at most 64 KiB: " + pages[0]);
    }
}
