package io.smalti.hub.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Attribute maps as CRDTs: last writer wins per name, removals are kept, merging is order-free, bytes round-trip. */
class AttributeMapTest {
    private static ByteString v(String s) {
        return ByteString.copyFromUtf8(s);
    }

    @Test
    void theLaterWriteOfANameWinsWhateverTheOrder() {
        AttributeMap m = AttributeMap.empty().with("k", v("new"), 20, "n1").with("k", v("old"), 10, "n2");
        assertEquals(Map.of("k", v("new")), m.values());
        assertEquals(20, m.maxTimestamp());
    }

    @Test
    void aRemovalHidesTheValueAndAStaleReplicaCannotBringItBack() {
        AttributeMap set = AttributeMap.empty().with("k", v("1"), 10, "n1").with("other", v("x"), 10, "n1");
        AttributeMap removed = AttributeMap.fromBytes(set.with("k", null, 11, "n1").toBytes());
        assertEquals(Map.of("other", v("x")), removed.values());
        assertEquals(Map.of("other", v("x")), removed.merge(set).values());
        assertEquals(Map.of("other", v("x")), set.merge(removed).values());
        assertEquals(Map.of("k", v("2"), "other", v("x")), removed.with("k", v("2"), 12, "n2").values(), "set again later");
    }

    @Test
    void mergingIsCommutativeAssociativeAndIdempotent() {
        AttributeMap a = AttributeMap.empty().with("x", v("a"), 5, "n1").with("y", v("a"), 9, "n1");
        AttributeMap b = AttributeMap.empty().with("x", v("b"), 7, "n2").with("z", null, 3, "n2");
        AttributeMap c = AttributeMap.empty().with("y", v("c"), 8, "n3").with("z", v("c"), 4, "n3");
        assertEquals(a.merge(b).toBytes(), b.merge(a).toBytes());
        assertEquals(a.merge(b).merge(c).toBytes(), a.merge(b.merge(c)).toBytes());
        assertEquals(a.toBytes(), a.merge(a).toBytes());
        assertEquals(Map.of("x", v("b"), "y", v("a"), "z", v("c")), a.merge(b).merge(c).values());
    }

    @Test
    void bytesThatAreNotAnAttributeMapAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> AttributeMap.fromBytes(ByteString.copyFrom(new byte[] {(byte) 0xff})));
    }
}
