package io.smalti.ring.id;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IdTest {

    @Test
    void fieldsAreLaidOutPrefixCategorySubElementTarget() {
        Id id = Id.of(0xabcd, Category.GROUP, 7, 0x0123456789abcdefL, 0x89abcdef);
        assertEquals("abcd0005000000070123456789abcdef89abcdef", id.toString());
        assertEquals(0xabcd, id.prefix());
        assertEquals(Category.GROUP, id.category());
        assertEquals(7, id.subElement());
        assertEquals(0xab, id.vnode(8)); // Q = 256 reads the top 8 bits
        assertEquals(0xabc, id.vnode(12));
    }

    @Test
    void textAndBytesRoundTripExactly() {
        Random rnd = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            Category c = Category.values()[rnd.nextInt(Category.values().length)];
            Id id = Id.random(c, rnd).withSubElement(rnd.nextInt());
            assertEquals(id, Id.parse(id.toString()));
            assertEquals(id, Id.parse(id.toString().toUpperCase()));
            assertEquals(id, Id.fromBytes(id.toBytes()));
            assertEquals(40, id.toString().length());
        }
    }

    @Test
    void textOrderIsRingOrder() {
        Random rnd = new Random(1);
        List<Id> ids = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ids.add(Id.random(Category.INSTANCE, rnd));
        }
        for (int i = 1; i < ids.size(); i++) {
            Id a = ids.get(i - 1);
            Id b = ids.get(i);
            assertEquals(Integer.signum(a.toString().compareTo(b.toString())), Integer.signum(a.compareTo(b)));
        }
    }

    @Test
    void subElementsShareTheirTargetsVnode() {
        Id target = Id.random(Category.INSTANCE, new Random(3));
        Id attribute = target.withSubElement(12);
        assertTrue(target.isTarget());
        assertEquals(target, attribute.target());
        assertEquals(target.vnode(12), attribute.vnode(12));
        assertNotEquals(target, attribute);
    }

    @Test
    void namedIdsAreStable() {
        assertEquals(Id.ofName(Category.RECORD, "k1"), Id.ofName(Category.RECORD, "k1"));
        assertNotEquals(Id.ofName(Category.RECORD, "k1"), Id.ofName(Category.RECORD, "k2"));
        assertEquals(Category.RECORD, Id.ofName(Category.RECORD, "k1").category());
    }

    @Test
    void badTextIsRefusedSayingWhatIsWrong() {
        assertEquals("id must be 40 hex digits, got 39 characters: 'abcd0005000000070123456789abcdef89abcde'",
                assertThrows(IllegalArgumentException.class,
                        () -> Id.parse("abcd0005000000070123456789abcdef89abcde")).getMessage());
        String msg = assertThrows(IllegalArgumentException.class,
                () -> Id.parse("abcd0005000000070123456789abcdef89abcdeg")).getMessage();
        assertTrue(msg.contains("non-hex character 'g' at position 39"), msg);
        msg = assertThrows(IllegalArgumentException.class,
                () -> Id.parse("abcd0099000000070123456789abcdef89abcdef")).getMessage();
        assertTrue(msg.contains("unknown id category 0x0099"), msg);
        assertEquals("id is missing", assertThrows(IllegalArgumentException.class, () -> Id.parse(null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Id.parse("abcd0005000000070123456789abcdef89abcd\u0663f"));
        assertThrows(IllegalArgumentException.class, () -> Id.fromBytes(new byte[19]));
    }
}
