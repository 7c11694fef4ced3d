package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ring as one node reports it, plus whether every member reports the same ring. Built by asking the
 * chosen node for its ring and its members, then every member for its own ring.
 */
final class RingReport {
    /** Letters for the ring drawing: one per node, in name order. */
    static final String LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+*#@%&=$?!~^<>";

    final JsonNode ring;
    final List<NodeAgreement> agreement;

    /** What one member reports. {@code error} is set when it could not be asked. */
    record NodeAgreement(String name, String apiUrl, long epoch, boolean sameOwners, String error) {}

    RingReport(JsonNode ring, List<NodeAgreement> agreement) {
        this.ring = ring;
        this.agreement = agreement;
    }

    static RingReport fetch(ApiClient api, String nodeUrl) throws ApiClient.ApiException {
        JsonNode ring = api.get(nodeUrl, "/v1/ring");
        JsonNode nodes = api.get(nodeUrl, "/v1/nodes");
        List<NodeAgreement> agreement = new ArrayList<>();
        for (JsonNode n : nodes.path("nodes")) {
            String name = n.path("name").asText();
            String url = n.path("apiUrl").isTextual() ? n.path("apiUrl").asText() : null;
            if (!"up".equals(n.path("status").asText()) && !"leaving".equals(n.path("status").asText())) {
                continue; // joining, exiting, down or removed members do not serve the ring
            }
            if (url == null) {
                agreement.add(new NodeAgreement(name, null, 0, false, "its API address is not known yet"));
                continue;
            }
            try {
                JsonNode other = api.get(url, "/v1/ring");
                agreement.add(new NodeAgreement(name, url, other.path("epoch").asLong(),
                        other.path("epoch").asLong() == ring.path("epoch").asLong()
                                && other.path("owners").equals(ring.path("owners")), null));
            } catch (ApiClient.ApiException e) {
                agreement.add(new NodeAgreement(name, url, 0, false, e.getMessage()));
            }
        }
        return new RingReport(ring, agreement);
    }

    boolean agreed() {
        return !agreement.isEmpty() && agreement.stream().allMatch(a -> a.error() == null && a.sameOwners());
    }

    ObjectNode toJson() {
        ObjectNode out = ((ObjectNode) ring).deepCopy();
        ObjectNode agree = out.putObject("agreement");
        agree.put("agreed", agreed());
        ArrayNode nodes = agree.putArray("nodes");
        for (NodeAgreement a : agreement) {
            ObjectNode n = nodes.addObject();
            n.put("name", a.name());
            n.put("apiUrl", a.apiUrl());
            n.put("epoch", a.epoch());
            n.put("sameOwners", a.sameOwners());
            n.put("error", a.error());
        }
        return out;
    }

    void print(PrintWriter out) {
        int size = ring.path("size").asInt();
        long epoch = ring.path("epoch").asLong();
        out.printf("Ring epoch %d   Q=%d vnodes   N=%d replicas   claimant %s   published %s   (asked %s)%n%n",
                epoch, size, ring.path("replicas").asInt(), ring.path("claimant").asText(),
                ring.path("publishedAt").asText(), ring.path("answeredBy").asText());

        Map<String, Character> letter = new LinkedHashMap<>();
        Table perNode = new Table("NODE", "DRAWN AS", "VNODES", "SHARE", "REPLICA LOAD");
        for (JsonNode n : ring.path("nodes")) {
            String name = n.path("name").asText();
            char c = letter.size() < LETTERS.length() ? LETTERS.charAt(letter.size()) : '.';
            letter.put(name, c);
            perNode.row(name, c, n.path("vnodes").asInt(),
                    String.format("%.1f%%", 100.0 * n.path("vnodes").asInt() / size), n.path("replicaLoad").asInt());
        }
        perNode.print(out, "  ");

        List<String> owners = new ArrayList<>();
        ring.path("owners").forEach(o -> owners.add(o.asText()));
        out.printf("%n  The ring, clockwise from vnode 0 (one character per vnode):%n");
        int perLine = 64;
        for (int start = 0; start < owners.size(); start += perLine) {
            StringBuilder sb = new StringBuilder(String.format("  %5d  ", start));
            for (int v = start; v < Math.min(owners.size(), start + perLine); v++) {
                sb.append(letter.getOrDefault(owners.get(v), '?'));
            }
            out.println(sb);
        }

        out.printf("%n  Owner of each vnode:%n");
        int cols = 4;
        int rows = (owners.size() + cols - 1) / cols;
        String[] header = new String[cols * 2];
        for (int c = 0; c < cols; c++) {
            header[2 * c] = "VNODE";
            header[2 * c + 1] = "OWNER";
        }
        Table byVnode = new Table(header);
        for (int r = 0; r < rows; r++) {
            Object[] cells = new Object[cols * 2];
            for (int c = 0; c < cols; c++) {
                int v = c * rows + r;
                cells[2 * c] = v < owners.size() ? v : "";
                cells[2 * c + 1] = v < owners.size() ? owners.get(v) : "";
            }
            byVnode.row(cells);
        }
        byVnode.print(out, "  ");

        out.println();
        printTransfers(out);
        printAgreement(out);
    }

    /** How long a transfer took (done) or has been running, e.g. "1.3s". */
    private static String took(JsonNode transfer) {
        try {
            Instant start = Instant.parse(transfer.path("startedAt").asText());
            String finished = transfer.path("finishedAt").asText(null);
            Instant end = finished == null ? Instant.now() : Instant.parse(finished);
            return String.format(Locale.ROOT, "%.1fs", Duration.between(start, end).toMillis() / 1000.0);
        } catch (DateTimeParseException e) {
            return "";
        }
    }

    /** The handoffs in progress (and those finished in the last seconds), cluster-wide. */
    void printTransfers(PrintWriter out) {
        JsonNode transfers = ring.path("transfers");
        long active = 0;
        for (JsonNode x : transfers) {
            if (!"done".equals(x.path("state").asText())) {
                active++;
            }
        }
        if (transfers.size() == 0) {
            out.println("  No handoffs.");
            return;
        }
        out.printf("  Handoffs: %d in progress, %d recently done%n", active, transfers.size() - active);
        Table t = new Table("SERVICE", "VNODE", "KIND", "FROM", "TO", "RECORDS", "STATE", "BY", "STARTED", "TOOK");
        transfers.forEach(x -> t.row(x.path("service").asText(), x.path("vnode").asInt(), x.path("kind").asText(),
                x.path("from").asText(), x.path("to").asText(), x.path("records").asLong(), x.path("state").asText(),
                x.path("reportedBy").asText(), x.path("startedAt").asText(), took(x)));
        t.print(out, "  ");
    }

    void printAgreement(PrintWriter out) {
        long epoch = ring.path("epoch").asLong();
        if (agreed()) {
            out.printf("  All %d nodes report epoch %d with identical owners.%n", agreement.size(), epoch);
            return;
        }
        out.println("  Nodes do not agree (yet):");
        Table t = new Table("NODE", "EPOCH", "SAME OWNERS", "PROBLEM");
        for (NodeAgreement a : agreement) {
            t.row(a.name(), a.error() == null ? a.epoch() : "-", a.error() == null ? (a.sameOwners() ? "yes" : "no") : "-",
                    a.error() == null ? "" : a.error());
        }
        t.print(out, "    ");
    }
}
