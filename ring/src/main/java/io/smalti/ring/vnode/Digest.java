package io.smalti.ring.vnode;

import com.google.protobuf.ByteString;
import io.smalti.protocol.vnode.DigestReply;
import io.smalti.protocol.vnode.Record;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;

/**
 * A replica's anti-entropy digest: keys fall into {@value #BUCKETS} buckets; each bucket's hash is the
 * XOR of the hashes of its records (key and value), so a change updates it in O(1) and two replicas
 * holding the same records have equal digests whatever order the records arrived in. Comparing two
 * digests names the buckets whose records differ. Immutable.
 */
public final class Digest {
    public static final int BUCKETS = 64;

    private final long[] buckets;
    private final long records;

    public Digest(long[] buckets, long records) {
        if (buckets.length != BUCKETS) {
            throw new IllegalArgumentException("a digest has " + BUCKETS + " buckets, got " + buckets.length);
        }
        this.buckets = buckets.clone();
        this.records = records;
    }

    /** The digest of a replica that holds nothing. */
    public static final Digest EMPTY = new Digest(new long[BUCKETS], 0);

    /** The digest a replica sent. */
    public static Digest of(DigestReply reply) {
        return new Digest(reply.getBucketsList().stream().mapToLong(Long::longValue).toArray(), reply.getRecords());
    }

    /** The wire form of this digest. */
    public DigestReply toReply() {
        DigestReply.Builder r = DigestReply.newBuilder().setRecords(records);
        for (long b : buckets) {
            r.addBuckets(b);
        }
        return r.build();
    }

    /** The bucket a key belongs to. */
    public static int bucketOf(String key) {
        return (int) (fnv(key.getBytes(StandardCharsets.UTF_8), 0xcbf29ce484222325L) >>> 58);
    }

    /** The hash a record contributes to its bucket. */
    public static long hash(Record record) {
        return hash(record.getKey(), record.getValue());
    }

    public static long hash(String key, ByteString value) {
        long h = fnv(key.getBytes(StandardCharsets.UTF_8), 0xcbf29ce484222325L);
        h = fnv(new byte[] {0}, h); // separator: ("ab","c") and ("a","bc") differ
        for (int i = 0; i < value.size(); i++) {
            h = (h ^ (value.byteAt(i) & 0xff)) * 0x100000001b3L;
        }
        return mix(h);
    }

    private static long fnv(byte[] bytes, long h) {
        for (byte b : bytes) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64 finalizer: spreads FNV's weak low bits before XOR-ing hashes together. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    public long records() {
        return records;
    }

    /** The buckets whose hashes differ from {@code other}'s. */
    public BitSet differingBuckets(Digest other) {
        BitSet out = new BitSet(BUCKETS);
        for (int i = 0; i < BUCKETS; i++) {
            if (buckets[i] != other.buckets[i]) {
                out.set(i);
            }
        }
        return out;
    }

    /** One number for the whole replica, for listings; equal for replicas with the same records. */
    public long summary() {
        long h = records;
        for (long b : buckets) {
            h = mix(h ^ b);
        }
        return h;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Digest d && d.records == records && Arrays.equals(d.buckets, buckets);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(summary());
    }

    @Override
    public String toString() {
        return String.format("Digest[%d records, %016x]", records, summary());
    }
}
