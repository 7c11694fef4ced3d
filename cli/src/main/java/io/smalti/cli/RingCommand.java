package io.smalti.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code smalti ring}: the ring as a node sees it, and whether all nodes agree. */
@Command(name = "ring", mixinStandardHelpOptions = true,
        description = "Shows the ring: vnodes per node, a drawing of the ring, the owner of every vnode, pending transfers, and whether every node reports the same epoch and owners.")
final class RingCommand implements Callable<Integer> {
    @Mixin
    Smalti.NodeOptions options = new Smalti.NodeOptions();

    @picocli.CommandLine.Option(names = "--handoffs",
            description = "Show only the handoffs: replicas moving between nodes, with records sent and state.")
    boolean handoffs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        RingReport report;
        try {
            report = RingReport.fetch(options.client(), options.resolveNode());
        } catch (ApiClient.ApiException e) {
            throw new Smalti.Failure(e.getMessage());
        }
        if (handoffs) {
            if (options.json) {
                var root = ApiClient.JSON.createObjectNode().put("epoch", report.ring.path("epoch").asLong());
                root.set("transfers", report.ring.path("transfers"));
                Smalti.printJson(spec.commandLine().getOut(), root);
            } else {
                report.printTransfers(spec.commandLine().getOut());
            }
        } else if (options.json) {
            Smalti.printJson(spec.commandLine().getOut(), report.toJson());
        } else {
            report.print(spec.commandLine().getOut());
        }
        return 0;
    }
}
