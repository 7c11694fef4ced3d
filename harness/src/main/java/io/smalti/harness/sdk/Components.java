package io.smalti.harness.sdk;

import java.io.IOException;
import java.nio.file.Path;

/** The entry point of a component process: {@code public static void main(String[] a) { Components.run(new X()); }}. */
public final class Components {
    private Components() {
    }

    /**
     * Connects to the harness named by {@code $SMALTI_SOCKET}, initializes {@code component}, serves it until
     * Terminate (then exits the process with status 0) or until the harness closes the connection (status 1).
     * Never returns. A failure to connect or initialize is printed on standard error and exits with status 1;
     * running outside a harness exits with status 2.
     */
    public static void run(Component component) {
        run(component, new ComponentConnection.Options());
    }

    /** Like {@link #run(Component)} with connection options. */
    public static void run(Component component, ComponentConnection.Options options) {
        String socket = System.getenv("SMALTI_SOCKET");
        if (socket == null || socket.isEmpty()) {
            System.err.println("SMALTI_SOCKET is not set: run this component under a smalti harness");
            System.exit(2);
        }
        int status;
        try {
            ComponentConnection connection = ComponentConnection.open(Path.of(socket), component, options);
            String why = connection.closed().join();
            status = connection.terminated() ? 0 : 1;
            if (status != 0) {
                System.err.println("component stopping: " + why);
            }
        } catch (IOException | HubException e) {
            System.err.println("component failed to start: " + e.getMessage());
            status = 1;
        }
        System.exit(status);
    }
}
