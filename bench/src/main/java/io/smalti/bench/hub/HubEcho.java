package io.smalti.bench.hub;

import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentConnection;
import io.smalti.harness.sdk.Components;
import io.smalti.harness.sdk.ErrorCode;
import io.smalti.harness.sdk.HubException;
import io.smalti.harness.sdk.Request;
import io.smalti.harness.sdk.Response;
import java.nio.ByteBuffer;

/**
 * The receiving component of {@link HubSystem}, written with the Java SDK and started by its harness:
 * answers {@code echo} with its inputs, counts casts, and answers {@code reset} and {@code stats} (count,
 * first and last arrival in {@code System.nanoTime}, three longs) like {@link RelayNode}'s echo server.
 * Its handlers run on the SDK's reader thread ({@code executor(Runnable::run)}: they never block), like
 * the baselines' echo servers, which answer on their I/O thread; and so a {@code stats} call is handled
 * after every cast that arrived before it.
 */
public final class HubEcho implements Component {
    private long count;
    private long first;
    private long last;

    public static void main(String[] args) {
        Components.run(new HubEcho(), new ComponentConnection.Options().executor(Runnable::run).parallelism(1)
                .agent("smalti-bench-echo"));
    }

    @Override
    public Response call(Request request) {
        return switch (request.operation()) {
            case "echo" -> Response.of(request.inputs());
            case "reset" -> {
                count = 0;
                first = 0;
                last = 0;
                yield Response.of(new byte[0]);
            }
            case "stats" -> Response.of(ByteBuffer.allocate(24).putLong(count).putLong(first).putLong(last).array());
            default -> throw new HubException(ErrorCode.FAILED, "unknown operation " + request.operation());
        };
    }

    @Override
    public void cast(Request request) {
        long now = System.nanoTime();
        if (count++ == 0) {
            first = now;
        }
        last = now;
    }
}
