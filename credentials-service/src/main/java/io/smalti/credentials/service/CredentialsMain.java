package io.smalti.credentials.service;

import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Revocations;
import io.smalti.credentials.vault.Audit;
import io.smalti.credentials.vault.Vault;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The credentials service process: {@code serve --dir DIR --socket PATH --master-key-file FILE [--lifetime 1h]
 * [--token-expiry 60s] [--audit-max-mib 16]}. Started and supervised by the node agent; exits 2 (and says why on stderr) when its
 * credentials cannot be opened: a missing or tampered CA key, a wrong master key. The master key's secret is read
 * from its file, never from arguments or the environment.
 */
public final class CredentialsMain {
    private CredentialsMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> opts = new HashMap<>();
        if (args.length == 0 || !args[0].equals("serve")) {
            usage("expected: serve --dir DIR --socket PATH --master-key-file FILE");
        }
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("bad argument '" + args[i] + "'");
            }
            opts.put(args[i].substring(2), args[++i]);
        }
        SocketServer server;
        try {
            Path dir = Path.of(required(opts, "dir"));
            Path keyFile = Path.of(required(opts, "master-key-file"));
            Duration lifetime = duration(opts.getOrDefault("lifetime", "1h"), "--lifetime");
            Duration tokenExpiry = duration(opts.getOrDefault("token-expiry", "60s"), "--token-expiry");
            MasterKey master = MasterKey.open(dir, MasterKey.readSecret(keyFile));
            ClusterCa ca = ClusterCa.open(dir, master);
            Clock clock = Clock.systemUTC();
            // The audit log rotates at this size (one older file is kept); an event is about 250 bytes.
            long auditMax = mebibytes(opts.getOrDefault("audit-max-mib", "16"), "--audit-max-mib");
            CredentialsService service = new CredentialsService(ca, new OneTimeTokens(tokenExpiry, 10_000),
                    new Revocations(dir, clock.instant()), Vault.open(dir, master, clock), new Audit(dir, auditMax),
                    lifetime, clock);
            server = SocketServer.start(Path.of(required(opts, "socket")), service);
            System.out.println("Credentials service of cluster " + ca.cluster() + " listening on " + server.path());
        } catch (CredentialsException | IllegalArgumentException e) {
            System.err.println("credentials service: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        } catch (java.io.IOException e) {
            System.err.println("credentials service: cannot listen: " + e);
            System.exit(2);
            return;
        }
        SocketServer s = server;
        Runtime.getRuntime().addShutdownHook(new Thread(s::close, "credentials-stop"));
        // The node agent that started it may be SIGKILLed: the service must not outlive it (its next run starts
        // its own). The JDK polls a non-child's exit, about every second here.
        ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> {
            System.err.println("credentials service: the node agent (pid " + parent.pid() + ") is gone; stopping");
            System.exit(0);
        }));
        // Argon2's 64 MiB are garbage now: give them back rather than keep them for the life of the process.
        System.gc();
        new CountDownLatch(1).await();
    }

    /** "250ms", "60s", "30m", "1h". */
    static Duration duration(String text, String option) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,12})(ms|s|m|h)").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(option + " must be a number with ms, s, m or h, not '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static String required(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    private static long mebibytes(String value, String option) {
        try {
            long mib = Long.parseLong(value);
            if (mib >= 1 && mib <= 1024) {
                return mib * 1024 * 1024;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(option + " must be a whole number of MiB, 1..1024, not '" + value + "'");
    }

    private static void usage(String message) {
        System.err.println("credentials service: " + message);
        System.exit(64);
    }
}
