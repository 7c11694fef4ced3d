package io.smalti.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class RingReportTest {
    private static String handoffs(String transfersJson) throws Exception {
        RingReport report = new RingReport(ApiClient.JSON.readTree("{\"epoch\": 7, \"transfers\": " + transfersJson + "}"), List.of());
        StringWriter out = new StringWriter();
        report.printTransfers(new PrintWriter(out, true));
        return out.toString();
    }

    @Test
    void handoffsShowWhoReportsEachSideAndHowLongADoneOneTook() throws Exception {
        String text = handoffs("""
                [{"service": "kv", "vnode": 3, "kind": "ownership", "from": "n1", "to": "n4", "records": 1200,
                  "state": "done", "reportedBy": "n4", "startedAt": "2026-11-23T10:00:00Z",
                  "finishedAt": "2026-11-23T10:00:02.500Z"},
                 {"service": "kv", "vnode": 9, "kind": "replica", "from": "n2", "to": "n4", "records": 300,
                  "state": "streaming", "reportedBy": "n4", "startedAt": "2026-11-23T10:00:01Z", "finishedAt": null}]
                """);
        assertTrue(text.contains("Handoffs: 1 in progress, 1 recently done"), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("\\s+kv\\s+3\\s+ownership\\s+n1\\s+n4\\s+1200\\s+done\\s+n4\\s+\\S+\\s+2\\.5s")), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("\\s+kv\\s+9\\s+replica\\s+n2\\s+n4\\s+300\\s+streaming\\s+n4\\s+.*")), text);
    }

    @Test
    void noTransfersSaysSo() throws Exception {
        assertTrue(handoffs("[]").contains("No handoffs."));
    }
}
