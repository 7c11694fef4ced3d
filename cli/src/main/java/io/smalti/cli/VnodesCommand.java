package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code smalti vnodes}: the replicas every node holds. */
@Command(name = "vnodes", mixinStandardHelpOptions = true,
        description = "Lists the replicas each node holds: service, vnode, role, records, digest, whether it is still "
                + "receiving its handoff; and each node's anti-entropy counters.")
final class VnodesCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ApiClient api = options.client();
        String node = options.resolveNode();
        ObjectNode root = ApiClient.JSON.createObjectNode();
        ArrayNode nodes = root.putArray("nodes");
        try {
            for (JsonNode member : api.get(node, "/v1/nodes").path("nodes")) {
                String url = member.path("apiUrl").asText(null);
                ObjectNode entry = nodes.addObject().put("name", member.path("name").asText());
                if (url == null) {
                    entry.put("error", "its API address is not known yet");
                    continue;
                }
                try {
                    JsonNode v = api.get(url, "/v1/vnodes");
                    entry.set("replicas", v.path("replicas"));
                    entry.set("antiEntropy", v.path("antiEntropy"));
                } catch (ApiClient.ApiException e) {
                    entry.put("error", e.getMessage());
                }
            }
        } catch (ApiClient.ApiException e) {
            throw new Smalti.Failure(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, root);
            return 0;
        }
        Table t = new Table("NODE", "SERVICE", "VNODE", "ROLE", "RECORDS", "DIGEST", "RECEIVING");
        Table aae = new Table("NODE", "EXCHANGES", "BUCKETS REPAIRED", "RECORDS IN", "RECORDS OUT");
        for (JsonNode n : nodes) {
            String name = n.path("name").asText();
            if (n.has("error")) {
                t.row(name, "-", "-", "-", "-", "-", n.path("error").asText());
                continue;
            }
            for (JsonNode r : n.path("replicas")) {
                t.row(name, r.path("service").asText(), r.path("vnode").asInt(), r.path("role").asText(),
                        r.path("records").asLong(), r.path("digest").asText(), r.path("receiving").asBoolean() ? "yes" : "");
            }
            JsonNode a = n.path("antiEntropy");
            aae.row(name, a.path("exchanges").asLong(), a.path("repairedBuckets").asLong(), a.path("recordsIn").asLong(),
                    a.path("recordsOut").asLong());
        }
        t.print(out, "");
        out.println();
        out.println("Anti-entropy since start:");
        aae.print(out, "  ");
        return 0;
    }
}
