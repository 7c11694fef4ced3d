package io.smalti.harness;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One harness run: connect to the hub, open the local channel, start the component, relay until it exits
 * (stopping it when the harness is signalled or its hub lease runs out), and return the exit status for the
 * harness process. See {@link HarnessMain} for the configuration and the
 * exit statuses.
 *
 * <p>Threading: both connections live on one single-threaded event loop, so relaying never crosses threads.
 * {@link #run} blocks the calling thread until the component exits; {@link #signal} may be called from any
 * thread (signal handlers).
 */
public final class Harness {
    /** Exit status: the configuration (or the socket path it names) cannot be used. */
    public static final int EXIT_BAD_CONFIG = 2;
    /** Exit status: the hub could not be reached or refused the harness. */
    public static final int EXIT_HUB_UNREACHABLE = 3;
    /**
     * Exit status: the harness fenced its instance: it had no hub session for the hub lease, so its node is
     * lost and the instance replaced elsewhere; the component was stopped as on SIGTERM, whatever its status.
     */
    public static final int EXIT_FENCED = 4;
    /** Exit status: the component's command could not be started (as a shell says for "not found"). */
    public static final int EXIT_NOT_STARTED = 127;
    /** How long the first connection to the hub may take before the harness gives up. */
    static final long FIRST_CONNECT_MILLIS = 30_000;
    /** Bounds of every channel's outbound queue: beyond the high mark requests are refused, not queued. */
    static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

    private static final Logger log = LoggerFactory.getLogger(Harness.class);

    private final HarnessConfig config;
    private final Transport transport = Transport.best();
    private final CompletableFuture<Integer> stoppedEarly = new CompletableFuture<>();
    private EventLoopGroup group;
    private EventLoop loop;
    private Relay relay;
    private volatile ComponentProcess component;
    private ScheduledFuture<?> killTimer;
    private long killDeadlineNanos;
    private boolean signalled;
    /** Set on the event loop when the hub lease ran out, read by {@link #run} once the component exited. */
    private volatile boolean fenced;

    public Harness(HarnessConfig config) {
        this.config = config;
    }

    /** Runs the harness to completion; returns the exit status for the harness process. */
    public int run() throws InterruptedException {
        ComponentProcess.becomeSubreaper();
        group = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
        loop = group.next();
        relay = new Relay(config.component(), config.maxFrame(), config.graceMillis(), this::terminate, config.groups());
        HubConnector hub = null;
        Channel server = null;
        try {
            hub = new HubConnector(config, relay, loop, transport, "smalti-harness " + version(), this::fence);
            CompletableFuture<Void> connected = hub.start(FIRST_CONNECT_MILLIS);
            Object first = CompletableFuture.anyOf(connected, stoppedEarly).get();
            if (first instanceof Integer status) {
                return status;
            }
            server = bindLocalChannel();
            ComponentProcess process;
            try {
                process = ComponentProcess.start(config);
            } catch (IOException e) {
                log.error("cannot start component command {}: {}", config.command(), e.getMessage());
                return EXIT_NOT_STARTED;
            }
            component = process;
            log.info("component started: pid {}, command {}", process.pid(), config.command().get(0));
            loop.scheduleAtFixedRate(process::reapOrphans, 500, 500, TimeUnit.MILLISECONDS);
            if (stoppedEarly.isDone()) {
                String reason = fenced ? "this instance is fenced" : "harness received a signal";
                loop.execute(() -> terminate(reason, config.graceMillis(), false));
            }
            int status = process.process().onExit().get().exitValue();
            log.info("component exited with status {}", status);
            if (fenced) {
                log.info("exiting with status {}: this instance is fenced", EXIT_FENCED);
                return EXIT_FENCED;
            }
            return status;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            log.error("{}", cause instanceof HubConnector.RefusedException ? cause.getMessage() : cause.toString());
            return EXIT_HUB_UNREACHABLE;
        } catch (IOException e) {
            log.error("socket: cannot bind the local channel at {}: {}", config.socket(), e.getMessage());
            return EXIT_BAD_CONFIG;
        } finally {
            shutdown(hub, server);
        }
    }

    private Channel bindLocalChannel() throws IOException, InterruptedException {
        Path socket = config.socket();
        Files.deleteIfExists(socket); // a stale file from an earlier run would make bind fail
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loop)
                .channel(transport.serverDomainSocketChannel())
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        LocalChannelHandler.install(ch.pipeline(), config.maxFrame(), relay);
                    }
                });
        // The socket is the component's credential to speak for it: create it owner-only from the start
        // (umask), not just chmod it afterwards, so no one else can connect in between.
        int previousMask = -1;
        try {
            previousMask = LibC.INSTANCE.umask(0077);
        } catch (LinkageError e) {
            log.debug("umask unavailable; relying on chmod", e);
        }
        ChannelFuture bound;
        try {
            bound = bootstrap.bind(transport.domainSocketAddress(socket)).await();
        } finally {
            if (previousMask >= 0) {
                LibC.INSTANCE.umask(previousMask);
            }
        }
        if (!bound.isSuccess()) {
            throw new IOException(bound.cause().getMessage(), bound.cause());
        }
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        log.info("local channel listening at {}", socket);
        return bound.channel();
    }

    /** Relay.Supervisor: the hub (or a signal) asked the component to stop. Runs on the event loop. */
    private void terminate(String reason, long graceMillis, boolean told) {
        ComponentProcess process = component;
        if (process == null) {
            return;
        }
        log.info("terminating component: {} (grace {} ms)", reason, graceMillis);
        if (!told) {
            process.signalTerminate();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        // A later Terminate may shorten the grace period, never extend it.
        if (killTimer == null || deadline - killDeadlineNanos < 0) {
            if (killTimer != null) {
                killTimer.cancel(false);
            }
            killDeadlineNanos = deadline;
            killTimer = loop.schedule(() -> {
                if (process.process().isAlive()) {
                    log.warn("component still running {} ms after Terminate; killing it", graceMillis);
                    process.kill();
                }
            }, graceMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A termination signal reached the harness: tell the component, kill it after the grace period. A second
     * signal kills it at once. Any thread.
     */
    public void signal(String name) {
        if (component == null) {
            log.info("received {} before the component started; exiting", name);
            stoppedEarly.complete(128 + ("SIGINT".equals(name) ? 2 : 15));
            return;
        }
        loop.execute(() -> {
            ComponentProcess process = component;
            if (signalled) {
                log.warn("received {} again; killing the component now", name);
                process.kill();
                return;
            }
            signalled = true;
            stopComponent("harness received " + name);
        });
    }

    /**
     * HubConnector: the hub lease ran out. Stops the component as a SIGTERM would; {@link #run} then exits with
     * {@link #EXIT_FENCED}. On the event loop.
     */
    private void fence() {
        fenced = true;
        if (component == null) {
            stoppedEarly.complete(EXIT_FENCED);
            return;
        }
        stopComponent("no hub session for " + HubConnector.duration(config.hubLeaseMillis())
                + " (lease): this instance is fenced");
    }

    /** Tells the component to stop (Terminate, or SIGTERM when it is not connected), kills it after the grace. */
    private void stopComponent(String reason) {
        boolean told = relay.terminateComponent(reason, config.graceMillis());
        terminate(reason, config.graceMillis(), told);
    }

    private void shutdown(HubConnector hub, Channel server) {
        try {
            ComponentProcess process = component;
            if (process != null && process.process().isAlive()) {
                process.kill();
            }
            if (hub != null) {
                // Closing the hub connection is how the hub learns the component went away.
                ChannelFuture closed = hub.stop();
                if (closed != null) {
                    closed.awaitUninterruptibly(2, TimeUnit.SECONDS);
                }
            }
            if (relay != null) {
                loop.execute(relay::closeLocal);
            }
            if (server != null) {
                server.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(config.socket());
        } catch (IOException | RuntimeException e) {
            log.warn("cleanup failed: {}", e.toString());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    static String version() {
        String v = Harness.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
