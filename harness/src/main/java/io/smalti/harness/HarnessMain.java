package io.smalti.harness;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The harness executable: one per component instance, normally the init process of its container.
 *
 * <p>Usage: {@code java -Xmx32m -XX:+UseSerialGC -cp <harness classpath> io.smalti.harness.HarnessMain
 * [--config-fd N]}. The configuration is read to end of file from an inherited file descriptor (default 0,
 * standard input: a pipe from the launcher), never from arguments or the environment, because those show in
 * {@code ps} and {@code /proc/<pid>/environ}. It is a JSON object:
 * <pre>{@code
 * {
 *   "component": "<40 lowercase hex digits>",                      required
 *   "hub": {"host": "127.0.0.1", "port": 7390,                     required
 *           "certificate": "<PEM>" | "certificateFile": "/path",   one of the two: the cluster CA certificate
 *           "token": "<one-time token>"},          redeemed once at the hub for this harness's own certificate
 *   "command": ["java", "-cp", "...", "io.smalti.examples.echo.Echo"],   required
 *   "environment": {"K": "V"},              added to the harness's environment for the component
 *   "directory": "/working/dir",            the component's working directory
 *   "socket": "/path/x.sock",               local channel; default <java.io.tmpdir>/smalti-<component>.sock
 *   "graceMillis": 5000,                    time between Terminate and the kill
 *   "maxFrame": 1048576,                    largest frame accepted, bytes
 *   "reconnect": {"initialMillis": 100, "maxMillis": 5000},  back-off between hub connection attempts
 *   "hubLeaseMillis": 30000,                once connected, how long without a hub session before fencing
 *   "groups": ["echo"]                      joined for the component from the first hub session on
 * }
 * }</pre>
 * The component gets {@code SMALTI_SOCKET} and {@code SMALTI_COMPONENT} in its environment and /dev/null as
 * standard input; its standard output and error are the harness's.
 *
 * <p>Exit status: the component's (128 + signal if a signal killed it); 2 for a bad configuration or
 * argument (one line on standard error naming the field); 3 when the hub cannot be reached within 30 s at
 * first start, refuses the protocol version or the enrolment token; 4 when the harness fenced its instance (no hub session for
 * hubLeaseMillis: the component is stopped as on SIGTERM); 127 when the command cannot be started. SIGTERM
 * and SIGINT send the component Terminate and kill it after graceMillis; a second signal kills it at once.
 */
public final class HarnessMain {
    private HarnessMain() {
    }

    public static void main(String[] args) {
        int fd = 0;
        if (args.length == 2 && args[0].equals("--config-fd")) {
            try {
                fd = Integer.parseInt(args[1]);
            } catch (NumberFormatException e) {
                fd = -1;
            }
            if (fd < 0) {
                fail("--config-fd: expected a file descriptor number, got \"" + args[1] + "\"");
            }
        } else if (args.length != 0) {
            fail("arguments: the only argument allowed is --config-fd N (the configuration is read from a file descriptor, never from arguments)");
        }
        Object document;
        try {
            document = HarnessConfig.Json.parse(readConfig(fd));
        } catch (ConfigException e) {
            fail(e.getMessage());
            return;
        } catch (IOException e) {
            fail("configuration: cannot read file descriptor " + fd + ": " + e.getMessage());
            return;
        }
        String component = HarnessConfig.componentId(document);
        if (component != null) {
            // Before the first logger exists: HarnessLogConfigurator tags every line with the component's short
            // id (and never reads a logback.xml, which could be a component's).
            System.setProperty(HarnessLogConfigurator.SHORT_ID_PROPERTY, component.substring(0, 8));
            // Netty's allocator events for Flight Recorder: registering them took ~100 ms of every harness start,
            // for a recording nobody makes in a container.
            if (System.getProperty("io.netty.jfr.enabled") == null) {
                System.setProperty("io.netty.jfr.enabled", "false");
            }
            Thread warmUp = new Thread(HarnessMain::warmUp, "harness-warm-up");
            warmUp.setDaemon(true);
            warmUp.start();
        }
        HarnessConfig config;
        try {
            config = HarnessConfig.of(document);
        } catch (ConfigException e) {
            fail(e.getMessage());
            return;
        }
        Logger log = LoggerFactory.getLogger(HarnessMain.class);
        Harness harness = new Harness(config);
        installSignalHandlers(harness, log);
        int status;
        try {
            status = harness.run();
        } catch (InterruptedException e) {
            status = 1;
        } catch (RuntimeException | java.lang.Error e) {
            log.error("harness failed", e);
            status = 1;
        }
        System.exit(status);
    }

    /**
     * Initializes the native transport, BoringSSL and the wire classes (~100 ms of class initialization) on
     * another core while the main thread validates the configuration and sets up logging. Failures are left to
     * the real use, which reports them.
     */
    private static void warmUp() {
        try {
            Transport.best();
            HubConnector.sslProvider();
            io.smalti.protocol.hub.Frame.getDefaultInstance();
        } catch (RuntimeException | LinkageError e) {
            // reported where it is used
        }
    }

    private static byte[] readConfig(int fd) throws IOException {
        if (fd == 0) {
            try (InputStream in = System.in) {
                return in.readAllBytes();
            }
        }
        return Files.readAllBytes(Path.of("/proc/self/fd/" + fd));
    }

    @SuppressWarnings("sunapi") // sun.misc.Signal is the only way to catch SIGTERM without exiting
    private static void installSignalHandlers(Harness harness, Logger log) {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> harness.signal("SIG" + name));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.warn("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }

    private static void fail(String message) {
        System.err.println("smalti-harness: " + message);
        System.exit(Harness.EXIT_BAD_CONFIG);
    }
}
