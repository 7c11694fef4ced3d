package io.smalti.examples.pingpong;

import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentContext;
import io.smalti.harness.sdk.Components;
import io.smalti.harness.sdk.ErrorCode;
import io.smalti.harness.sdk.HubException;
import io.smalti.harness.sdk.Request;
import io.smalti.harness.sdk.Response;
import io.smalti.harness.sdk.Target;
import io.smalti.protocol.hub.Event;
import io.smalti.protocol.hub.Log;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two groups playing ball: {@code PingPong ping} joins group "ping", {@code PingPong pong} joins "pong"; each
 * watches the other group and every 500 ms (env PINGPONG_INTERVAL_MS) calls one member of it with operation
 * "ball" and inputs {@code {"n":k}}; the receiver answers {@code {"n":k+1}}. Operation "stats" returns
 * {@code {"role":..,"sent":..,"received":..,"answered":..,"lastRoundTripMicros":..}}. Every 10th exchange is
 * logged through the hub.
 */
public final class PingPong implements Component {
    private static final Pattern N = Pattern.compile("\"n\"\\s*:\\s*(-?\\d+)");

    private final String role;
    private final String other;
    private final long intervalMillis;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong lastRoundTripMicros = new AtomicLong(-1);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pingpong-serve");
        t.setDaemon(true);
        return t;
    });
    private volatile ComponentContext context;

    public PingPong(String role, long intervalMillis) {
        if (!role.equals("ping") && !role.equals("pong")) {
            throw new IllegalArgumentException("role must be ping or pong, not " + role);
        }
        this.role = role;
        this.other = role.equals("ping") ? "pong" : "ping";
        this.intervalMillis = intervalMillis;
    }

    public static void main(String[] args) {
        if (args.length != 1 || !(args[0].equals("ping") || args[0].equals("pong"))) {
            System.err.println("usage: PingPong ping|pong");
            System.exit(2);
        }
        String interval = System.getenv().getOrDefault("PINGPONG_INTERVAL_MS", "500");
        Components.run(new PingPong(args[0], Long.parseLong(interval)));
    }

    @Override
    public void initialize(ComponentContext ctx) throws Exception {
        context = ctx;
        ctx.register(role).get();
        ctx.monitorGroup(other).get();
        timer.scheduleWithFixedDelay(this::serve, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /** Sends one ball to the other group; the answer is handled asynchronously, so no thread waits. */
    private void serve() {
        long n = sent.incrementAndGet();
        long start = System.nanoTime();
        context.call(Target.group(other), "ball", "{\"n\":" + n + "}").whenComplete((reply, failure) -> {
            if (failure != null) {
                return; // e.g. NO_MEMBERS while the other side starts: the next ball tries again
            }
            long micros = (System.nanoTime() - start) / 1000;
            lastRoundTripMicros.set(micros);
            long returned = answered.incrementAndGet();
            if (returned % 10 == 0) {
                context.log(Log.Level.INFO, role + " exchanged " + returned + " balls",
                        Map.of("answer", reply.outputsAsString(), "roundTripMicros", Long.toString(micros)));
            }
        });
    }

    @Override
    public Response call(Request req) {
        switch (req.operation()) {
            case "ball" -> {
                received.incrementAndGet();
                Matcher m = N.matcher(req.inputsAsString());
                if (!m.find()) {
                    throw new HubException(ErrorCode.BAD_REQUEST, "ball needs inputs {\"n\":<number>}");
                }
                return Response.of("{\"n\":" + (Long.parseLong(m.group(1)) + 1) + "}");
            }
            case "stats" -> {
                return Response.of("{\"role\":\"" + role + "\",\"sent\":" + sent.get() + ",\"received\":" + received.get()
                        + ",\"answered\":" + answered.get() + ",\"lastRoundTripMicros\":" + lastRoundTripMicros.get() + "}");
            }
            default -> throw new HubException(ErrorCode.FAILED, "unknown operation " + req.operation());
        }
    }

    @Override
    public void event(Event event) {
        if (event.hasGroupChanged()) {
            var change = event.getGroupChanged();
            context.log(Log.Level.INFO, change.getComponent() + (change.getJoined() ? " joined " : " left ") + change.getGroup());
        }
    }

    @Override
    public void terminate(String reason) {
        timer.shutdownNow();
    }
}
