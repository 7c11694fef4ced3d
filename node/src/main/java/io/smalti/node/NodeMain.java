package io.smalti.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code smalti node start}: runs a node agent in the foreground until SIGTERM (graceful leave, exit 0)
 * or until the cluster downs it (exit 1). Exit 2 means it could not start; the message says why.
 */
@Command(name = "smalti node start", mixinStandardHelpOptions = true, version = "smalti ${sys:smalti.version}",
        sortOptions = false,
        description = "Runs a Smalti node agent in the foreground: it joins (or forms) the cluster, takes its share of the ring and serves the REST API. SIGTERM makes it leave the cluster and exit.",
        footer = {"", "Settings come from reference.conf, then --config FILE, then the flags above.", "", "Example:",
                "  smalti node start --name n2 --host 127.0.0.2 --join 127.0.0.1:7355 \\",
                "      --data-dir /var/lib/smalti"})
public final class NodeMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(NodeMain.class);

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON configuration file.")
    Path config;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (smalti.node.data-dir).")
    Path dataDir;

    @Option(names = "--name", description = "Node name, unique in the cluster (smalti.node.name).")
    String name;

    @Option(names = "--host", description = "Address for the cluster transport and, by default, the API (smalti.node.host).")
    String host;

    @Option(names = "--port", description = "Cluster transport port (smalti.node.port).")
    Integer port;

    @Option(names = "--api-port", description = "REST API port (smalti.node.api.port).")
    Integer apiPort;

    @Option(names = "--hub-port", description = "Port where harnesses connect (smalti.hub.port).")
    Integer hubPort;

    @Option(names = "--driver", paramLabel = "auto|lxc|process",
            description = "Container driver for component instances (smalti.components.driver).")
    String driver;

    @Option(names = "--master-key-file", paramLabel = "FILE",
            description = "The cluster's master key file, mode 0600 (smalti.credentials.master-key-file).")
    Path masterKeyFile;

    @Option(names = "--credentials-dir", paramLabel = "DIR",
            description = "This node's copy of the cluster CA (smalti.credentials.dir; default <data-dir>/credentials).")
    Path credentialsDir;

    @Option(names = "--join-token-stdin",
            description = "Read a join token (smalti cluster join-token NAME) from standard input and fetch the cluster's "
                    + "CA with it, if this node has none yet; the master key file is still needed.")
    boolean joinTokenStdin;

    @Option(names = "--join", paramLabel = "HOST:PORT",
            description = "A node to join, by its cluster address; repeatable (smalti.node.seeds).")
    List<String> join = new ArrayList<>();

    public static void main(String[] args) {
        System.setProperty("smalti.version", NodeAgent.VERSION);
        int code = new CommandLine(new NodeMain()).execute(args);
        System.exit(code);
    }

    @Override
    public Integer call() {
        NodeAgent agent;
        try {
            NodeSettings settings = NodeSettings.load(config, overrides());
            if (joinTokenStdin && !io.smalti.credentials.ca.ClusterCa.exists(settings.security().dir())) {
                // From standard input, never an argument: tokens must not show in ps.
                String text = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                        java.nio.charset.StandardCharsets.US_ASCII)).readLine();
                io.smalti.node.security.JoinToken.parse(text).fetchCredentials(settings.name(), settings.security().dir(),
                        settings.security().masterKeyFile());
                log.info("Joined with a join token: the cluster CA is now in {}", settings.security().dir());
            }
            agent = NodeAgent.start(settings);
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("smalti node start: " + e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            System.err.println("smalti node start: cannot read the join token from standard input: " + e.getMessage());
            return 2;
        }
        NodeSettings s = agent.settings();
        log.info("Smalti {} node {} started: cluster {}, API https://{}, data {}, journal {}, seeds {}",
                NodeAgent.VERSION, s.name(), s.cluster(), s.api(), s.dataDir(), s.journal(),
                s.seeds().isEmpty() ? "none (forming a new cluster)" : s.seeds());
        agent.whenTerminated().toCompletableFuture().join();
        boolean downed = agent.shutdownReason()
                .map(r -> r == CoordinatedShutdown.clusterDowningReason())
                .orElse(false);
        return downed ? 1 : 0;
    }

    private Config overrides() {
        Config c = ConfigFactory.empty();
        if (dataDir != null) {
            c = c.withValue("smalti.node.data-dir", ConfigValueFactory.fromAnyRef(dataDir.toString()));
        }
        if (name != null) {
            c = c.withValue("smalti.node.name", ConfigValueFactory.fromAnyRef(name));
        }
        if (host != null) {
            c = c.withValue("smalti.node.host", ConfigValueFactory.fromAnyRef(host));
        }
        if (port != null) {
            c = c.withValue("smalti.node.port", ConfigValueFactory.fromAnyRef(port));
        }
        if (hubPort != null) {
            c = c.withValue("smalti.hub.port", ConfigValueFactory.fromAnyRef(hubPort));
        }
        if (apiPort != null) {
            c = c.withValue("smalti.node.api.port", ConfigValueFactory.fromAnyRef(apiPort));
        }
        if (masterKeyFile != null) {
            c = c.withValue("smalti.credentials.master-key-file",
                    ConfigValueFactory.fromAnyRef(masterKeyFile.toAbsolutePath().toString()));
        }
        if (credentialsDir != null) {
            c = c.withValue("smalti.credentials.dir", ConfigValueFactory.fromAnyRef(credentialsDir.toAbsolutePath().toString()));
        }
        if (driver != null) {
            c = c.withValue("smalti.components.driver", ConfigValueFactory.fromAnyRef(driver));
        }
        if (!join.isEmpty()) {
            for (String j : join) {
                NodeSettings.HostPort.parse(j); // fail early with the flag's own text
            }
            c = c.withValue("smalti.node.seeds", ConfigValueFactory.fromIterable(join));
        }
        return c;
    }
}
