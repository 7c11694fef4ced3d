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
        if (options.json) {
            Smalti.printJson(spec.commandLine().getOut(), report.toJson());
        } else {
            report.print(spec.commandLine().getOut());
        }
        return 0;
    }
}
