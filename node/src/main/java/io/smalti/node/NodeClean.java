package io.smalti.node;

import io.smalti.container.ContainerDriver;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code smalti node clean}: destroys what a node that is not running left on this machine (after a SIGKILL or a
 * crash): its containers with their monitors, harnesses and components, overlay mounts, veths and cgroup
 * directories, and its bridge. Refuses while the node runs (its data directory is locked). One thread.
 */
@Command(name = "smalti node clean", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Destroys the containers and the bridge a stopped node left behind (after a SIGKILL or a crash). "
                + "Refuses while the node runs.")
public final class NodeClean implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", required = true, description = "The node's HOCON configuration file.")
    Path config;

    public static void main(String[] args) {
        System.exit(new CommandLine(new NodeClean()).execute(args));
    }

    @Override
    public Integer call() {
        NodeSettings settings;
        try {
            settings = NodeSettings.load(config, com.typesafe.config.ConfigFactory.empty());
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("smalti node clean: " + e.getMessage());
            return 2;
        }
        // The lock a running node holds: cleaning under a live node would destroy its instances.
        try (DataDirLock lock = DataDirLock.acquire(settings.dataDir())) {
            ContainerDriver driver = ComponentWiring.driver(settings, ComponentWiring.containerSettings(settings));
            int left = driver.list().size();
            ComponentWiring.destroyAll(driver);
            driver.close();
            if (driver.name().equals("lxc")) {
                ComponentWiring.removeBridge(settings);
            }
            System.out.println("node " + settings.name() + ": destroyed " + left + " container(s) it left");
            return 0;
        } catch (IllegalStateException e) {
            System.err.println("smalti node clean: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println("smalti node clean: node " + settings.name() + ": " + e.getMessage());
            return 1;
        }
    }
}
