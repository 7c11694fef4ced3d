package io.smalti.harness;

import io.smalti.harness.sdk.Component;
import io.smalti.harness.sdk.ComponentContext;
import io.smalti.harness.sdk.Components;
import io.smalti.harness.sdk.Request;
import io.smalti.harness.sdk.Response;

/**
 * A component for the end-to-end harness tests: joins group "t"; "echo" returns the inputs; "exit" exits
 * with the status given as inputs; with TEST_IGNORE_TERMINATE set it ignores Terminate (to be killed).
 */
public final class TestComponent implements Component {
    public static void main(String[] args) {
        Components.run(new TestComponent());
    }

    @Override
    public void initialize(ComponentContext ctx) throws Exception {
        ctx.register("t").get();
    }

    @Override
    public Response call(Request req) {
        if (req.operation().equals("exit")) {
            int status = Integer.parseInt(req.inputsAsString());
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(200); // let the answer go out first
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                System.exit(status);
            });
            t.start();
            return Response.empty();
        }
        return Response.of(req.inputs());
    }

    @Override
    public void terminate(String reason) throws Exception {
        if (System.getenv("TEST_IGNORE_TERMINATE") != null) {
            Thread.sleep(60_000);
        }
    }
}
