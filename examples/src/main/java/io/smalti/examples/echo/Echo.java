package io.smalti.examples.echo;

import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentContext;
import io.smalti.harness.sdk.Components;
import io.smalti.harness.sdk.HubException;
import io.smalti.harness.sdk.ErrorCode;
import io.smalti.harness.sdk.Request;
import io.smalti.harness.sdk.Response;
import io.smalti.harness.sdk.Target;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The smallest useful component: joins group "echo" and answers
 * <ul>
 *   <li>{@code echo}: the inputs, unchanged;</li>
 *   <li>{@code count}: {@code {"count":N,"component":"<id>"}}, N counting this instance's count calls;</li>
 *   <li>{@code whoami}: {@code {"component":"<id>","node":"<node>"}}.</li>
 * </ul>
 * Every few seconds it publishes how many calls it answered as its attribute "calls". Handlers run on
 * several threads at once, hence the atomic counters.
 */
public final class Echo implements Component {
    private final AtomicLong counted = new AtomicLong();
    private final AtomicLong calls = new AtomicLong();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "echo-attributes");
        t.setDaemon(true);
        return t;
    });
    private volatile ComponentContext context;

    public static void main(String[] args) {
        Components.run(new Echo());
    }

    @Override
    public void initialize(ComponentContext ctx) throws Exception {
        context = ctx;
        ctx.register("echo").get();
        timer.scheduleWithFixedDelay(this::publishCalls, 5, 5, TimeUnit.SECONDS);
    }

    @Override
    public Response call(Request req) {
        calls.incrementAndGet();
        return switch (req.operation()) {
            case "echo" -> Response.of(req.inputs());
            case "count" -> Response.of("{\"count\":" + counted.incrementAndGet()
                    + ",\"component\":\"" + context.id() + "\"}");
            case "whoami" -> Response.of("{\"component\":\"" + context.id() + "\",\"node\":\"" + context.node() + "\"}");
            default -> throw new HubException(ErrorCode.FAILED, "unknown operation " + req.operation());
        };
    }

    @Override
    public void terminate(String reason) {
        timer.shutdownNow();
    }

    /** Informative only: attributes are last-writer-wins, so a lost update is harmless. */
    private void publishCalls() {
        byte[] value = Long.toString(calls.get()).getBytes(StandardCharsets.UTF_8);
        context.updateAttributes(Target.component(context.id()), Map.of("calls", value), List.of());
    }
}
