package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TableTest {
    @Test
    void columnsAlignToTheWidestCellAndMissingCellsShowADash() {
        StringWriter s = new StringWriter();
        new Table("NODE", "VNODES", "API").row("n1", 22, "http://a").row("node-10", 3, null).print(new PrintWriter(s, true), "  ");
        assertEquals(String.join(System.lineSeparator(),
                "  NODE     VNODES  API",
                "  n1       22      http://a",
                "  node-10  3       -", ""), s.toString());
    }
}
