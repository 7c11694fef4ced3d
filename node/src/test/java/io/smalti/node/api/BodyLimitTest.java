package io.smalti.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How a body limit and a body's size are worded in a 413. */
class BodyLimitTest {
    @Test
    void sizesAreWrittenAsAnOperatorWouldWriteThem() {
        assertEquals("1 byte", BodyLimit.size(1));
        assertEquals("800 bytes", BodyLimit.size(800));
        assertEquals("1.5 KiB", BodyLimit.size(1536));
        assertEquals("1 MiB", BodyLimit.size(1 << 20));
        assertEquals("14.6 MiB", BodyLimit.size(15_309_000));
        assertEquals("300 MiB", BodyLimit.size(300L << 20));
        assertEquals("2 GiB", BodyLimit.size(2L << 30));
    }
}
