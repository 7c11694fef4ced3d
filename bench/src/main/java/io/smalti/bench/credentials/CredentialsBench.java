package io.smalti.bench.credentials;

import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.ClusterCa;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.OneTimeTokens;
import io.smalti.credentials.ca.Revocations;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.credentials.service.CredentialsService;
import io.smalti.credentials.service.SocketServer;
import io.smalti.credentials.vault.Audit;
import io.smalti.credentials.vault.Caller;
import io.smalti.credentials.vault.Rule;
import io.smalti.credentials.vault.Vault;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.VaultOperation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The credentials service through its Unix-domain socket, as a node agent uses it: vault HMAC-SHA256 operations a
 * second (one client, sequential; then 4 clients, each its own connection and thread), with the same HMAC computed
 * in-process as the anchor; and certificate issuance latency (p50/p99) with an EC P-256 CA for EC keys and an RSA
 * 2048 CA for RSA keys. Every vault operation is audited, as in production (the audit log is in the temporary
 * directory). Targets: at least 20,000 HMACs a second, EC issuance p50 at most 10 ms.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.smalti.bench.credentials.CredentialsBench [--ops 100000]
 *     [--seconds 5] [--issues 2000]</pre>
 *
 * One thread (main) but for the 4 client threads of the concurrent phase; everything started here is stopped.
 */
public final class CredentialsBench {
    private static final Caller OPERATOR = Caller.operator("bench");
    private static final Caller COMPONENT = Caller.component("c1", "n1", "bench");
    /** About what a webhook or API signature covers: a timestamp, a method, a path and a body digest. */
    private static final byte[] DATA = ("2026-01-02T03:04:05Z\nPOST\n/v1/charges\n"
            + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").getBytes(StandardCharsets.UTF_8);

    private CredentialsBench() {
    }

    public static void main(String[] args) throws Exception {
        int ops = 100_000;
        int seconds = 5;
        int issues = 2000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--ops" -> ops = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--issues" -> issues = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (expected --ops N, --seconds S, --issues N)");
            }
        }
        // Under /tmp: a socket's path is at most 107 bytes.
        Path work = Files.createTempDirectory(Path.of("/tmp"), "smcb");
        try {
            hmacs(work.resolve("ec"), ops, seconds);
            issuance(work.resolve("ec"), KeyAlgorithm.EC, issues);
            issuance(work.resolve("rsa"), KeyAlgorithm.RSA, issues);
        } finally {
            try (Stream<Path> all = Files.walk(work)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static SocketServer start(Path dir, KeyAlgorithm algorithm) throws Exception {
        Files.createDirectories(dir);
        MasterKey master = Files.exists(dir.resolve(MasterKey.PARAMS_FILE))
                ? MasterKey.open(dir, secret()) : MasterKey.create(dir, secret());
        Clock clock = Clock.systemUTC();
        ClusterCa ca = ClusterCa.exists(dir) ? ClusterCa.open(dir, master)
                : ClusterCa.create(dir, master, "bench", algorithm, clock.instant());
        CredentialsService service = new CredentialsService(ca, new OneTimeTokens(Duration.ofSeconds(60), 10_000),
                new Revocations(dir, clock.instant()), Vault.open(dir, master, clock), new Audit(dir, 64L << 20),
                Duration.ofHours(1), clock);
        return SocketServer.start(dir.resolve("s"), service);
    }

    private static byte[] secret() {
        return "credentials bench passphrase".getBytes(StandardCharsets.US_ASCII);
    }

    private static void hmacs(Path dir, int ops, int seconds) throws Exception {
        try (SocketServer server = start(dir, KeyAlgorithm.EC); CredentialsClient admin = new CredentialsClient(server.path())) {
            admin.generate(OPERATOR, "bench/mac", CredentialKind.HMAC_KEY, false);
            admin.setPolicy(OPERATOR, List.of(new Rule(new Rule.OfType("bench"), Set.of(VaultOperation.HMAC), "bench/*")));

            // Anchor: the same MAC in this process, no socket, no policy, no audit.
            Mac local = Mac.getInstance("HmacSHA256");
            local.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
            for (int i = 0; i < ops; i++) {
                local.doFinal(DATA);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                local.doFinal(DATA);
            }
            double anchor = ops / ((System.nanoTime() - t0) / 1e9);

            try (CredentialsClient client = new CredentialsClient(server.path())) {
                for (int i = 0; i < ops / 5; i++) { // warm-up
                    client.hmac(COMPONENT, "bench/mac", HmacAlgorithm.HMAC_SHA256, DATA);
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < ops; i++) {
                    client.hmac(COMPONENT, "bench/mac", HmacAlgorithm.HMAC_SHA256, DATA);
                }
                double one = ops / ((System.nanoTime() - t1) / 1e9);
                double four = concurrent(server.path(), 4, seconds);
                System.out.printf("vault HMAC-SHA256 (%d-byte input) through the socket:%n", DATA.length);
                System.out.printf("  1 client, sequential: %,10.0f ops/s  (%.1f us an op; target >= 20,000/s)%n", one, 1e6 / one);
                System.out.printf("  4 clients:            %,10.0f ops/s%n", four);
                System.out.printf("  anchor, in-process Mac.doFinal: %,10.0f ops/s (socket service: %.1f%% of it, 1 client)%n",
                        anchor, 100 * one / anchor);
            }
        }
    }

    private static double concurrent(Path socket, int clients, int seconds) throws Exception {
        AtomicBoolean counting = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder done = new LongAdder();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                try (CredentialsClient client = new CredentialsClient(socket)) {
                    while (!stop.get()) {
                        client.hmac(COMPONENT, "bench/mac", HmacAlgorithm.HMAC_SHA256, DATA);
                        if (counting.get()) {
                            done.increment();
                        }
                    }
                }
            }, "bench-client-" + c);
            t.start();
            threads.add(t);
        }
        Thread.sleep(1000); // warm-up
        counting.set(true);
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long n = done.sum();
        double elapsed = (System.nanoTime() - t0) / 1e9;
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        return n / elapsed;
    }

    private static void issuance(Path dir, KeyAlgorithm algorithm, int issues) throws Exception {
        try (SocketServer server = start(dir, algorithm); CredentialsClient client = new CredentialsClient(server.path())) {
            // Subjects' keys are made beforehand: a node's children generate their own, off the service's clock.
            KeyPair[] keys = new KeyPair[8];
            for (int i = 0; i < keys.length; i++) {
                keys[i] = algorithm.generate();
            }
            Identity id = new Identity(Identity.HARNESS, "c1", "n1", List.of("10.0.0.1"));
            for (int i = 0; i < Math.max(50, issues / 10); i++) {
                client.issue(id, keys[i % keys.length].getPublic(), Duration.ofHours(1));
            }
            long[] nanos = new long[issues];
            for (int i = 0; i < issues; i++) {
                long t0 = System.nanoTime();
                client.issue(id, keys[i % keys.length].getPublic(), Duration.ofHours(1));
                nanos[i] = System.nanoTime() - t0;
            }
            Arrays.sort(nanos);
            System.out.printf("certificate issuance through the socket, %s CA and keys (%d issues): p50 %.2f ms, p99 %.2f ms%s%n",
                    algorithm, issues, nanos[issues / 2] / 1e6, nanos[(int) (issues * 0.99)] / 1e6,
                    algorithm == KeyAlgorithm.EC ? " (target p50 <= 10 ms)" : "");
        }
    }
}
