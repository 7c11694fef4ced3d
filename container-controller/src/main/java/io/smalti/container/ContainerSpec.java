package io.smalti.container;

import io.smalti.bundle.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What to run: the instance id (40 lowercase hex digits), the extracted bundle (read-only) and its manifest,
 * the hub endpoint the harness connects to ({@code hubHostForHost} is used by the process driver and the lxc
 * driver in host network mode; in bridge mode the harness uses the bridge address), the cluster CA certificate the
 * harness trusts for its hub, the one-time token it redeems for its own certificate (it travels only in the
 * configuration pipe), extra environment for the component, and the harness's grace period. Immutable.
 */
public record ContainerSpec(String instance, Path bundleRoot, Manifest manifest, String hubHostForHost, int hubPort,
        String hubCertificatePem, String enrolToken, Map<String, String> environment, Duration grace) {
    private static final Pattern ID = Pattern.compile("[0-9a-f]{40}");

    public ContainerSpec {
        Objects.requireNonNull(instance, "instance");
        if (!ID.matcher(instance).matches()) {
            throw new IllegalArgumentException("instance: expected 40 lowercase hex digits, got \"" + instance + "\"");
        }
        Objects.requireNonNull(bundleRoot, "bundleRoot");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(hubCertificatePem, "hubCertificatePem");
        Objects.requireNonNull(enrolToken, "enrolToken");
        if (hubPort < 1 || hubPort > 65535) {
            throw new IllegalArgumentException("hubPort: " + hubPort + " is not a TCP port");
        }
        environment = Map.copyOf(environment == null ? Map.of() : environment);
        grace = grace == null ? Duration.ofSeconds(5) : grace;
    }

    @Override
    public String toString() {
        // Never the token: specs end up in logs and exception messages.
        return "ContainerSpec[" + instance + " from " + bundleRoot + ", hub " + hubHostForHost + ":" + hubPort + "]";
    }

    /** True for a well-formed instance id. */
    public static boolean isInstanceId(String s) {
        return s != null && ID.matcher(s).matches();
    }
}
