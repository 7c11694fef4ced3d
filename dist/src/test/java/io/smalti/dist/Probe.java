package io.smalti.dist;

import com.fasterxml.jackson.databind.JsonNode;
import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentContext;
import io.smalti.harness.sdk.Components;
import io.smalti.harness.sdk.Request;
import io.smalti.harness.sdk.Response;
import io.smalti.harness.sdk.Target;
import io.smalti.protocol.hub.Event;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A component for the hub's end-to-end tests, driven by calls: it joins groups, monitors, links and sets
 * attributes when told to, and reports what it heard (events, casts) through the "events" operation.
 * Inputs are JSON strings. Started by its harness like any component.
 */
public final class Probe implements Component {
    private final List<String> heard = new CopyOnWriteArrayList<>();
    private volatile ComponentContext ctx;

    public static void main(String[] args) {
        Components.run(new Probe());
    }

    @Override
    public void initialize(ComponentContext context) throws Exception {
        this.ctx = context;
        String groups = System.getenv().getOrDefault("PROBE_GROUPS", "");
        if (!groups.isBlank()) {
            context.register(groups.split(",")).get(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public Response call(Request request) throws Exception {
        String in = arg(request);
        switch (request.operation()) {
            case "events" -> {
                return Response.of(Dist.JSON.writeValueAsString(heard));
            }
            case "echo" -> {
                return Response.of(request.inputs());
            }
            case "sleep" -> {
                Thread.sleep(Long.parseLong(in));
                return Response.of("\"slept\"");
            }
            case "register" -> ctx.register(in).get(10, TimeUnit.SECONDS);
            case "unregister" -> ctx.unregister(in).get(10, TimeUnit.SECONDS);
            case "monitorGroup" -> ctx.monitorGroup(in).get(10, TimeUnit.SECONDS);
            case "monitorComponent" -> ctx.monitorComponent(in).get(10, TimeUnit.SECONDS);
            case "monitorGroupAttributes" -> ctx.monitorAttributes(Target.group(in)).get(10, TimeUnit.SECONDS);
            case "link" -> ctx.link(in).get(10, TimeUnit.SECONDS);
            case "setGroupAttribute" -> {
                String[] p = in.split("=", 3); // group=name=value
                ctx.updateAttributes(Target.group(p[0]), Map.of(p[1], p[2].getBytes(StandardCharsets.UTF_8)), List.of())
                        .get(10, TimeUnit.SECONDS);
            }
            case "callGroup" -> {
                var reply = ctx.call(Target.group(in), "echo", ("\"from " + ctx.id() + "\"").getBytes(StandardCharsets.UTF_8),
                        Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
                return Response.of(Dist.JSON.writeValueAsString(reply.single().from()));
            }
            case "hmac" -> {
                // The vault's HMAC-SHA256 of "payload" with credential `in`, hex; or the error code the hub answered.
                try {
                    byte[] mac = ctx.credentials().hmacSha256(in, "payload".getBytes(StandardCharsets.UTF_8))
                            .get(10, TimeUnit.SECONDS);
                    return Response.of(Dist.JSON.writeValueAsString(java.util.HexFormat.of().formatHex(mac)));
                } catch (java.util.concurrent.ExecutionException e) {
                    return Response.of(Dist.JSON.writeValueAsString(e.getCause() instanceof io.smalti.harness.sdk.HubException h
                            ? h.code().name() : String.valueOf(e.getCause())));
                }
            }
            default -> throw new IllegalArgumentException("unknown operation " + request.operation());
        }
        return Response.of("\"ok\"");
    }

    @Override
    public void cast(Request request) {
        heard.add("cast:" + request.operation() + ":" + arg(request));
    }

    @Override
    public void event(Event e) {
        switch (e.getKindCase()) {
            case GROUP_CHANGED -> heard.add((e.getGroupChanged().getJoined() ? "joined:" : "left:") + e.getGroupChanged().getGroup()
                    + ":" + e.getGroupChanged().getComponent() + (e.getGroupChanged().getJoined() ? "" : ":" + e.getGroupChanged().getReason()));
            case COMPONENT_DOWN -> heard.add("down:" + e.getComponentDown().getComponent() + ":" + e.getComponentDown().getReason());
            case ATTRIBUTE_CHANGED -> heard.add("attribute:" + e.getAttributeChanged().getName() + "="
                    + e.getAttributeChanged().getValue().toStringUtf8());
            default -> heard.add("event:" + e.getKindCase());
        }
    }

    private static String arg(Request r) {
        try {
            JsonNode n = Dist.JSON.readTree(r.inputs());
            return n == null ? "" : n.isTextual() ? n.asText() : n.toString();
        } catch (Exception e) {
            return r.inputsAsString();
        }
    }
}
