package io.smalti.ring.id;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TypeClusterTest {

    @Test
    void instancesOfATypeLandOnAFixedFractionOfTheVnodes() {
        Random rnd = new Random(5);
        int ringBits = 6; // Q = 64
        Id type = Id.random(Category.TYPE, rnd);
        TypeCluster cluster = TypeCluster.of(type, ringBits, 3);
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 5000; i++) {
            Id instance = cluster.newId(Category.INSTANCE, rnd);
            assertEquals(Category.INSTANCE, instance.category());
            assertTrue(cluster.contains(instance));
            int v = instance.vnode(ringBits);
            assertTrue(cluster.containsVnode(v));
            used.add(v);
        }
        assertEquals(8, used.size(), "1/8 of 64 vnodes");
        assertEquals(8, cluster.vnodeCount());
    }

    @Test
    void aTypesVnodesAreSpreadAroundTheRingNotOneArc() {
        Random rnd = new Random(9);
        int ringBits = 10; // Q = 1024
        for (int t = 0; t < 50; t++) {
            TypeCluster cluster = TypeCluster.of(Id.random(Category.TYPE, rnd), ringBits, 3);
            int[] perQuarter = new int[4];
            for (int v = 0; v < 1024; v++) {
                if (cluster.containsVnode(v)) {
                    perQuarter[v / 256]++;
                }
            }
            for (int c : perQuarter) {
                assertEquals(32, c, "each quarter of the ring holds 1/4 of the type's 128 vnodes");
            }
        }
    }

    @Test
    void typesSpreadOverAllFractions() {
        Random rnd = new Random(11);
        Set<String> clusters = new HashSet<>();
        for (int t = 0; t < 400; t++) {
            clusters.add(TypeCluster.of(Id.random(Category.TYPE, rnd), 8, 3).toString());
        }
        assertEquals(8, clusters.size(), "types use all 8 possible values of the fixed bits");
    }

    @Test
    void needsATypeId() {
        Id instance = Id.random(Category.INSTANCE, new Random(1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TypeCluster.of(instance, 6, 3))
                .getMessage().contains("needs a TYPE id"));
    }
}
