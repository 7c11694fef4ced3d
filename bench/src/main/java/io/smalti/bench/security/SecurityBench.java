package io.smalti.bench.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.smalti.bench.OperatorTls;
import io.smalti.credentials.ca.Identity;
import io.smalti.credentials.ca.KeyAlgorithm;
import io.smalti.credentials.ca.Pem;
import io.smalti.credentials.client.CredentialsClient;
import io.smalti.protocol.hub.Frame;
import io.smalti.protocol.hub.Hello;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Security benchmark, driven by {@code bench/security-bench}:
 * <ol>
 *   <li><b>Certificate issuance</b> through a real credentials service process (the node's command line:
 *       {@code CredentialsMain serve}, C1 only, serial GC, the distribution's class path) over its Unix socket with
 *       {@link CredentialsClient}, for a cluster CA with an EC P-256 key and one with an RSA 2048 key ({@code smalti
 *       cluster init --key-algorithm}), each for EC and RSA public keys: {@code issue} (what a node asks for itself and
 *       for renewals) and a harness's enrolment ({@code makeToken}, then {@code redeem}: two round trips). Keys are
 *       generated before the clock runs, in a pool that is cycled (RSA key generation takes ~100 ms); one caller,
 *       back to back (the service answers one request at a time), so the rate is 1 / mean.</li>
 *   <li><b>TLS handshakes</b> with an in-process Netty server on loopback: connect, handshake, one 64-byte frame
 *       there and back (the size of a Hello), close, with plain TCP (the anchor), server-only TLS and mutual TLS,
 *       for the JDK's TLS and BoringSSL (netty-tcnative: what the harness uses when its native library loads),
 *       every connection with a fresh client context (no session resumption: a harness connects once per JVM);
 *       certificates from the EC service above.</li>
 *   <li><b>A real hub</b> ({@code --hub-api}, the node agent bench/security-bench starts): the client enrols once
 *       (a token from {@code POST /v1/hub/tokens}, {@code Enroll}), then connect + handshake with and without its
 *       certificate, and connect + mutual TLS + Hello/Welcome (what a harness's connect costs; Welcome also waits for
 *       the hub to record where the component is).</li>
 * </ol>
 * All variants of a part are measured interleaved (one of each in turn), so they see the same machine state.
 * Readable tables on stdout, progress on stderr; record the results in docs/benchmarks.md. One thread (main) drives
 * everything; Netty's loops belong to {@link Handshakes}.
 */
public final class SecurityBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path dist;
    private Path work;
    private int issues = 2000;
    private int issueWarmup = 500;
    private int handshakes = 1000;
    private int handshakeWarmup = 300;
    private String hubApi;
    private Path operator;
    private final List<Process> services = new ArrayList<>();
    private final StringBuilder out = new StringBuilder();

    public static void main(String[] args) throws Exception {
        SecurityBench b = new SecurityBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dist" -> b.dist = Path.of(args[++i]);
                case "--work" -> b.work = Path.of(args[++i]);
                case "--issues" -> b.issues = Integer.parseInt(args[++i]);
                case "--issue-warmup" -> b.issueWarmup = Integer.parseInt(args[++i]);
                case "--handshakes" -> b.handshakes = Integer.parseInt(args[++i]);
                case "--handshake-warmup" -> b.handshakeWarmup = Integer.parseInt(args[++i]);
                case "--hub-api" -> b.hubApi = args[++i];
                case "--operator" -> b.operator = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--issues N, --issue-warmup N,"
                        + " --handshakes N, --handshake-warmup N; --dist, --work, --hub-api, --operator are set by"
                        + " bench/security-bench)");
            }
        }
        if (b.dist == null || b.work == null) {
            throw new IllegalArgumentException("--dist (the distribution) and --work are required");
        }
        try {
            b.run();
        } finally {
            b.services.forEach(Process::destroy);
        }
        System.exit(0); // Netty's and the HTTP client's threads must not keep this JVM up
    }

    private void run() throws Exception {
        out.append(String.format(Locale.ROOT, "%d CPUs, load average before %s; Java %s; TLS: %s%n",
                Runtime.getRuntime().availableProcessors(), loadavg(), System.getProperty("java.vm.version"),
                OpenSsl.isAvailable() ? "JDK and BoringSSL (netty-tcnative)"
                        : "JDK only, BoringSSL is not available (" + OpenSsl.unavailabilityCause() + ")"));
        SecureRandom random = new SecureRandom();
        log("generating key pools (EC 200, RSA 20; not timed)");
        List<KeyPair> ec = new ArrayList<>();
        List<KeyPair> rsa = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            ec.add(KeyAlgorithm.EC.generate());
        }
        for (int i = 0; i < 20; i++) {
            rsa.add(KeyAlgorithm.RSA.generate());
        }

        // 1. issuance, EC CA first: its service also issues the certificates of part 2
        CredentialsClient ecService = null;
        for (KeyAlgorithm caAlg : KeyAlgorithm.values()) {
            CredentialsClient client = service(caAlg);
            if (caAlg == KeyAlgorithm.EC) {
                ecService = client;
            }
            issuance(caAlg, client, ec, rsa);
        }
        out.append(String.format(Locale.ROOT, "load average after issuance %s%n", loadavg()));

        // 2. handshakes against an in-process server
        String node = "b1";
        KeyPair serverKey = ec.get(0);
        CredentialsClient.Issued server = ecService.issue(new Identity(Identity.NODE, node, node, List.of("127.0.0.1")),
                serverKey.getPublic(), Duration.ofHours(1));
        KeyPair clientKey = ec.get(1);
        String component = Id.random(Category.INSTANCE, random).toString();
        CredentialsClient.Issued client = ecService.issue(new Identity(Identity.HARNESS, component, node, List.of()),
                clientKey.getPublic(), Duration.ofHours(1));
        List<SslProvider> providers = new ArrayList<>(List.of(SslProvider.JDK));
        if (OpenSsl.isAvailable()) {
            providers.add(SslProvider.OPENSSL);
        } else {
            log("BoringSSL is not available here (" + OpenSsl.unavailabilityCause() + "): JDK TLS only");
        }
        try (Handshakes h = new Handshakes()) {
            anchor(h, providers, serverKey, server, clientKey, client);
            if (hubApi != null) {
                hub(h, providers, random);
            }
        }
        out.append(String.format(Locale.ROOT, "load average at the end %s%n", loadavg()));
        System.out.print(out);
    }

    // ---------------------------------------------------------------- 1. issuance

    /** Makes a cluster CA with a key of {@code alg} and starts its credentials service as a node would; its client. */
    private CredentialsClient service(KeyAlgorithm alg) throws Exception {
        String name = alg.name().toLowerCase(Locale.ROOT);
        Path dir = work.resolve(name);
        Files.createDirectories(dir);
        Path ca = dir.resolve("ca");
        Path key = dir.resolve("master.key");
        exec(List.of(dist.resolve("bin/smalti").toString(), "cluster", "init", "--dir", ca.toString(), "--master-key-file",
                key.toString(), "--operator-dir", dir.resolve("operator").toString(), "--key-algorithm", name), 120);
        Path socket = dir.resolve("service.sock");
        // NodeCredentials.command: the node's own options for its service.
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms16m", "-Xmx160m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:MinHeapFreeRatio=10",
                "-XX:MaxHeapFreeRatio=20", "-cp", dist.resolve("lib") + "/*", "io.smalti.credentials.service.CredentialsMain",
                "serve", "--dir", ca.toString(), "--socket", socket.toString(), "--master-key-file", key.toString(),
                "--lifetime", "3600000ms", "--token-expiry", "60000ms"));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("service.log").toFile())).start();
        services.add(p);
        recordPid(p.pid());
        CredentialsClient client = new CredentialsClient(socket);
        long deadline = t0 + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                client.crl();
                break;
            } catch (RuntimeException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the " + name + " credentials service did not start (see "
                            + dir.resolve("service.log") + "): " + e.getMessage(), e);
                }
                Thread.sleep(20);
            }
        }
        double startMs = (System.nanoTime() - t0) / 1e6;
        log("[" + name + " CA] credentials service up after " + Math.round(startMs) + " ms (pid " + p.pid() + ")");
        out.append(String.format(Locale.ROOT, "%s CA: credentials service start (process start, Argon2id, CA key) "
                + "until it answers: %.0f ms%n", alg, startMs));
        return client;
    }

    private void issuance(KeyAlgorithm caAlg, CredentialsClient client, List<KeyPair> ec, List<KeyPair> rsa) {
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        for (String k : List.of("issue EC key", "issue RSA key", "enrol EC key (token + redeem)",
                "enrol RSA key (token + redeem)")) {
            ms.put(k, new ArrayList<>());
        }
        int n = issueWarmup + issues;
        long[] totalNanos = new long[4];
        log("[" + caAlg + " CA] " + issueWarmup + " warm-up + " + issues + " issuances of each kind, interleaved");
        for (int i = 0; i < n; i++) {
            boolean measured = i >= issueWarmup;
            int k = 0;
            for (List<KeyPair> pool : List.of(ec, rsa)) {
                Identity id = new Identity(Identity.HARNESS, "i" + caAlg + i + k, "b1", List.of());
                byte[] der = pool.get(i % pool.size()).getPublic().getEncoded();
                long t0 = System.nanoTime();
                client.issue(id, pool.get(i % pool.size()).getPublic(), Duration.ofHours(1));
                long t1 = System.nanoTime();
                if (measured) {
                    ms.get(k == 0 ? "issue EC key" : "issue RSA key").add((t1 - t0) / 1e6);
                    totalNanos[k] += t1 - t0;
                }
                Identity enrolled = new Identity(Identity.HARNESS, "e" + caAlg + i + k, "b1", List.of());
                long t2 = System.nanoTime();
                CredentialsClient.Token token = client.makeToken(enrolled);
                client.redeem(token.value(), der, Identity.HARNESS);
                long t3 = System.nanoTime();
                if (measured) {
                    ms.get(k == 0 ? "enrol EC key (token + redeem)" : "enrol RSA key (token + redeem)").add((t3 - t2) / 1e6);
                    totalNanos[k + 2] += t3 - t2;
                }
                k++;
            }
        }
        out.append(String.format(Locale.ROOT, "%ncertificate issuance, %s CA key (ms; %d each after %d warm-up, one caller,"
                + " back to back)%n", caAlg, issues, issueWarmup));
        out.append(String.format(Locale.ROOT, "%-44s %7s %7s %7s %7s %9s%n", "request", "p50", "p90", "p99", "max", "per s"));
        int k = 0;
        for (Map.Entry<String, List<Double>> e : ms.entrySet()) {
            row(e.getKey(), e.getValue(), issues / (totalNanos[k++] / 1e9), "%7.2f");
        }
        double ecP50 = percentile(ms.get("issue EC key"), 50);
        if (caAlg == KeyAlgorithm.EC) {
            out.append(String.format(Locale.ROOT, "target: EC issuance p50 <= 10 ms: %s (%.2f ms)%n",
                    ecP50 <= 10 ? "met" : "MISSED", ecP50));
        }
        out.append(String.format(Locale.ROOT, "ratios (p50): RSA key / EC key %.2f; enrolment / issue (EC key) %.2f%n",
                percentile(ms.get("issue RSA key"), 50) / ecP50,
                percentile(ms.get("enrol EC key (token + redeem)"), 50) / ecP50));
    }

    // ---------------------------------------------------------------- 2. in-process handshakes

    private void anchor(Handshakes h, List<SslProvider> providers, KeyPair serverKey, CredentialsClient.Issued server,
            KeyPair clientKey, CredentialsClient.Issued client) throws Exception {
        List<Handshakes.Variant> variants = new ArrayList<>();
        int tcp = h.server(null, serverKey, server.certificate(), server.ca(), false);
        variants.add(new Handshakes.Variant("plain TCP (anchor)", tcp, null, false, null, null, server.ca()));
        for (SslProvider p : providers) {
            int tls = h.server(p, serverKey, server.certificate(), server.ca(), false);
            int mtls = h.server(p, serverKey, server.certificate(), server.ca(), true);
            variants.add(new Handshakes.Variant(providerName(p) + " server-only TLS", tls, p, false, null, null, server.ca()));
            variants.add(new Handshakes.Variant(providerName(p) + " mutual TLS", mtls, p, true, clientKey,
                    client.certificate(), server.ca()));
        }
        byte[] frame = framed(new byte[60]);
        Map<String, Handshakes.Times> times = h.measure("127.0.0.1", variants, frame, handshakeWarmup, handshakes, this::log);
        out.append(String.format(Locale.ROOT, "%nconnect + handshake + one 64-byte frame there and back, in-process Netty"
                + " server on loopback (ms; %d each after %d warm-up, interleaved; fresh client context each)%n",
                handshakes, handshakeWarmup));
        out.append(String.format(Locale.ROOT, "%-44s %7s %7s %7s %7s   %s%n", "variant", "p50", "p90", "p99", "max",
                "handshake p50 (connect -> TLS done)"));
        times.forEach((name, t) -> {
            row(name, t.total(), -1, "%7.3f");
            if (!t.handshake().isEmpty()) {
                out.setLength(out.length() - System.lineSeparator().length());
                out.append(String.format(Locale.ROOT, "   %7.3f%n", percentile(t.handshake(), 50)));
            }
        });
        double base = percentile(times.get("plain TCP (anchor)").total(), 50);
        for (SslProvider p : providers) {
            double tls = percentile(times.get(providerName(p) + " server-only TLS").total(), 50);
            double mtls = percentile(times.get(providerName(p) + " mutual TLS").total(), 50);
            out.append(String.format(Locale.ROOT, "ratios (p50) %s: mutual / server-only TLS %.2f (+%.3f ms), mutual TLS / "
                    + "plain TCP %.2f (+%.3f ms)%n", providerName(p), mtls / tls, mtls - tls, mtls / base, mtls - base));
        }
    }

    // ---------------------------------------------------------------- 3. the real hub

    private void hub(Handshakes h, List<SslProvider> providers, SecureRandom random) throws Exception {
        HttpClient http = OperatorTls.http(operator != null ? operator : OperatorTls.defaultDir());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(hubApi + "/v1/hub")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + hubApi + "/v1/hub answered " + r.statusCode() + ": " + r.body());
        }
        JsonNode hub = JSON.readTree(r.body());
        String endpoint = hub.path("endpoint").asText();
        String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
        int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
        X509Certificate ca = Pem.parseCertificate(hub.path("certificate").asText().getBytes(StandardCharsets.US_ASCII));
        // Enrol once, as a harness does: a token of the node, redeemed at its hub for a certificate of our key.
        String component = Id.random(Category.INSTANCE, random).toString();
        KeyPair key = KeyAlgorithm.EC.generate();
        String token = OperatorTls.hubToken(http, hubApi, component);
        Frame enroll = Frame.newBuilder().setCorrelation(1).setEnroll(io.smalti.protocol.hub.Enroll.newBuilder()
                .setToken(token).setPublicKey(com.google.protobuf.ByteString.copyFrom(key.getPublic().getEncoded()))).build();
        Frame enrolled = Frame.parseFrom(h.exchange(host, port, SslProvider.JDK, null, null, ca, framed(enroll.toByteArray())));
        if (!enrolled.hasEnrolled()) {
            throw new IllegalStateException("the hub answered Enroll with " + enrolled);
        }
        X509Certificate own = Pem.parseCertificate(enrolled.getEnrolled().getCertificate().toByteArray());
        log("[hub] enrolled at " + endpoint + " as " + own.getSubjectX500Principal());
        byte[] hello = framed(Frame.newBuilder().setCorrelation(1).setHello(Hello.newBuilder().setVersion(1)
                .setComponent(component).setAgent("smalti-security-bench")).build().toByteArray());
        List<Handshakes.Variant> variants = new ArrayList<>();
        for (SslProvider p : providers) {
            variants.add(new Handshakes.Variant(providerName(p) + " server-only TLS, handshake", port, p, false, null, null, ca)
                    .stopAfterHandshake());
            variants.add(new Handshakes.Variant(providerName(p) + " mutual TLS, handshake", port, p, true, key, own, ca)
                    .stopAfterHandshake());
            variants.add(new Handshakes.Variant(providerName(p) + " mutual TLS + Hello/Welcome", port, p, true, key, own, ca));
        }
        int n = Math.max(1, handshakes / 2);
        int w = Math.max(1, handshakeWarmup / 2);
        Map<String, Handshakes.Times> times = h.measure(host, variants, hello, w, n, this::log);
        out.append(String.format(Locale.ROOT, "%nthe node's hub at %s (server: the node agent's TLS; ms; %d each after %d"
                + " warm-up, interleaved; fresh client context each)%n", endpoint, n, w));
        out.append(String.format(Locale.ROOT, "%-44s %7s %7s %7s %7s%n", "variant", "p50", "p90", "p99", "max"));
        times.forEach((name, t) -> row(name, t.total(), -1, "%7.3f"));
        for (SslProvider p : providers) {
            double tls = percentile(times.get(providerName(p) + " server-only TLS, handshake").total(), 50);
            double mtls = percentile(times.get(providerName(p) + " mutual TLS, handshake").total(), 50);
            double hello2 = percentile(times.get(providerName(p) + " mutual TLS + Hello/Welcome").total(), 50);
            out.append(String.format(Locale.ROOT, "ratios (p50) %s: mutual / server-only handshake %.2f (+%.3f ms); "
                    + "Hello/Welcome adds %.3f ms to the mutual handshake%n", providerName(p), mtls / tls, mtls - tls,
                    hello2 - mtls));
        }
    }

    // ---------------------------------------------------------------- helpers

    static String providerName(SslProvider p) {
        return p == SslProvider.OPENSSL ? "BoringSSL" : "JDK";
    }

    /** A hub frame on the wire: 4-byte big-endian length, then the body. */
    static byte[] framed(byte[] body) {
        return java.nio.ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    private void row(String name, List<Double> v, double rate, String fmt) {
        String f = "%-44s " + fmt + " " + fmt + " " + fmt + " " + fmt;
        out.append(String.format(Locale.ROOT, f, name, percentile(v, 50), percentile(v, 90), percentile(v, 99),
                v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN)));
        out.append(rate >= 0 ? String.format(Locale.ROOT, " %9.0f%n", rate) : String.format(Locale.ROOT, "%n"));
    }

    /** Nearest-rank percentile. */
    static double percentile(List<Double> v, double p) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    private static void exec(List<String> cmd, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] text = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": "
                    + new String(text, StandardCharsets.UTF_8).trim());
        }
    }

    private static void recordPid(long pid) throws IOException {
        String pids = System.getProperty("smalti.bench.pids");
        if (pids != null) {
            Files.writeString(Path.of(pids), pid + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private static String loadavg() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return String.join(" ", Arrays.copyOf(f, 3));
        } catch (IOException e) {
            return "?";
        }
    }

    private void log(String s) {
        System.err.println(s);
    }
}
