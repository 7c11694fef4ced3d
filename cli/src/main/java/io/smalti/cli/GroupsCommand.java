package io.smalti.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code smalti groups [GROUP]}: the hub's groups, or one group's members. */
@Command(name = "groups", mixinStandardHelpOptions = true,
        description = "Lists the hub's groups with their member counts, or with GROUP that group's members and "
                + "the node each is connected to.")
final class GroupsCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @Parameters(arity = "0..1", paramLabel = "GROUP", description = "A group name (group:NAME is accepted too).")
    String group;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String path = group == null ? "/v1/groups" : "/v1/groups/" + Hub.segment(groupName(group));
        JsonNode body = Hub.get(options, path);
        PrintWriter out = spec.commandLine().getOut();
        if (options.json) {
            Smalti.printJson(out, body);
        } else if (group == null) {
            printGroups(body, out);
        } else {
            printMembers(body, out);
        }
        return 0;
    }

    /** Accepts the {@code group:NAME} spelling of call and cast, so one can paste a target. */
    static String groupName(String arg) {
        return arg.startsWith("group:") ? arg.substring("group:".length()) : arg;
    }

    static void printGroups(JsonNode body, PrintWriter out) {
        Table t = new Table("GROUP", "MEMBERS");
        for (JsonNode g : body.path("groups")) {
            t.row(Hub.oneLine(g.path("name").asText()), g.path("members").asInt());
        }
        t.print(out, "");
        int n = body.path("groups").size();
        out.printf("%d %s%n", n, n == 1 ? "group" : "groups");
    }

    static void printMembers(JsonNode body, PrintWriter out) {
        Table t = new Table("COMPONENT", "NODE");
        for (JsonNode m : body.path("members")) {
            JsonNode node = m.path("node");
            t.row(m.path("component").asText(), node.isTextual() ? node.asText() : "(not connected)");
        }
        t.print(out, "");
        int n = body.path("members").size();
        out.printf("%s: %d %s%n", Hub.oneLine(body.path("name").asText()), n, n == 1 ? "member" : "members");
    }
}
