package io.smalti.bench.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;

/**
 * Messaging benchmark: call latency (one call outstanding, p50/p99/p99.9) and cast throughput (counted
 * at the receiver) for several systems measured in the same run, 100-byte payloads.
 *
 * <pre>
 * java -cp benchmarks.jar io.smalti.bench.hub.MessagingBench [--runs 5] [--warmup-runs 1] [--calls 20000] [--warmup 5000]
 *     [--cast-seconds 5] [--cast-warmup 1] [--payload 100] [--systems relay3,relay3-plain,relay4,nats,hub-1node,hub-2node]
 *     [--nats-server PATH] [--hub-nodes URL,URL] [--launcher bin/smalti] [--json]
 * </pre>
 *
 * <p>Every system is started once; each run then measures all of them one after the other, in an order
 * rotated from run to run, so that they see the same machine state. Whole warm-up runs come first and
 * are printed but not counted: the TLS path of four relay processes needs more than a few thousand
 * calls before the JIT compilers are done (the first run's casts were several times slower). On a 2-vCPU machine a wake-up on the
 * other CPU costs about 100 µs and decides most of a call's latency, so single figures mean little: the
 * summary gives the median over runs of every figure and of the per-run ratios between systems.
 *
 * <p>Systems: {@code relay3} / {@code relay4} are raw Netty relay chains with the hops of the hub path on
 * one node / two nodes (TLS where the hub uses it), {@code relay3-plain} / {@code relay4-plain} the same
 * without TLS, {@code nats} is nats-server with jnats. {@code hub-1node} / {@code hub-2node} are the
 * component hub ({@link HubSystem}) with both components on one node / on two, against the running node
 * agents whose REST URLs {@code --hub-nodes} names.
 */
public final class MessagingBench {

    /** One system's figures in one run. */
    public record Figures(String system, int run, double p50Micros, double p99Micros, double p999Micros,
                          double callsPerSecond, double castsSentPerSecond, double castsReceivedPerSecond,
                          long castsLost) {}

    /** Ratios reported in the summary, subject over baseline, whenever both ran. */
    private static final List<String[]> PAIRS = List.of(
            new String[] {"hub-1node", "relay3"}, new String[] {"hub-1node", "nats"},
            new String[] {"hub-2node", "relay4"}, new String[] {"hub-2node", "nats"},
            new String[] {"relay3", "relay3-plain"}, new String[] {"relay4", "relay4-plain"},
            new String[] {"relay4", "relay3"}, new String[] {"relay3", "nats"}, new String[] {"relay3-plain", "nats"});

    private int runs = 5;
    private int warmupRuns = 1;
    private int calls = 20_000;
    private int warmup = 5_000;
    private double castSeconds = 5;
    private double castWarmup = 1;
    private int payloadSize = 100;
    private List<String> systemNames = List.of("relay3", "relay3-plain", "relay4", "nats", "hub-1node", "hub-2node");
    private String natsServer = NatsSystem.findServer();
    private List<String> hubNodes = List.of();
    private Path launcher = Path.of(System.getProperty("smalti.launcher", "bin/smalti"));
    private boolean json;
    private Path dir;
    private Path cert;
    private Path key;

    public static void main(String[] args) throws Exception {
        MessagingBench bench = new MessagingBench();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--runs" -> bench.runs = Integer.parseInt(args[++i]);
                case "--warmup-runs" -> bench.warmupRuns = Integer.parseInt(args[++i]);
                case "--calls" -> bench.calls = Integer.parseInt(args[++i]);
                case "--warmup" -> bench.warmup = Integer.parseInt(args[++i]);
                case "--cast-seconds" -> bench.castSeconds = Double.parseDouble(args[++i]);
                case "--cast-warmup" -> bench.castWarmup = Double.parseDouble(args[++i]);
                case "--payload" -> bench.payloadSize = Integer.parseInt(args[++i]);
                case "--systems" -> bench.systemNames = Arrays.asList(args[++i].split(","));
                case "--nats-server" -> bench.natsServer = args[++i];
                case "--hub-nodes" -> bench.hubNodes = Arrays.asList(args[++i].split(","));
                case "--launcher" -> bench.launcher = Path.of(args[++i]);
                case "--json" -> bench.json = true;
                default -> {
                    System.err.println("unknown option " + a + "; see the class documentation of " + MessagingBench.class.getName());
                    System.exit(2);
                }
            }
        }
        bench.run();
        // Children are stopped by then; the jnats and JDK threads must not keep this JVM up.
        System.exit(0);
    }

    /** Creates the system called {@code name}, or returns null (with a message) when it cannot run here. */
    MessagingSystem create(String name) {
        return switch (name) {
            case "relay3" -> new RelayChain(name, List.of("uds", "tls", "tls", "uds"), dir, cert, key);
            case "relay3-plain" -> new RelayChain(name, List.of("uds", "tcp", "tcp", "uds"), dir, cert, key);
            // The hubs of two nodes talk over Artery's tls-tcp (node certificates, both sides checked) since security is on.
            case "relay4" -> new RelayChain(name, List.of("uds", "tls", "tls", "tls", "uds"), dir, cert, key);
            case "relay4-plain" -> new RelayChain(name, List.of("uds", "tcp", "tcp", "tcp", "uds"), dir, cert, key);
            case "nats" -> {
                if (natsServer == null) {
                    log("nats: skipped, nats-server is not installed (as root: apt-get install -y nats-server)");
                    yield null;
                }
                yield new NatsSystem(natsServer, dir.resolve("nats-server.log"));
            }
            case "hub-1node", "hub-2node" -> {
                int needed = name.equals("hub-1node") ? 1 : 2;
                if (hubNodes.size() < needed) {
                    log(name + ": skipped, it needs " + needed + " running node agent(s) given with --hub-nodes URL[,URL]"
                            + " (bench/hub-bench starts them)");
                    yield null;
                }
                yield new HubSystem(name, hubNodes.get(0), hubNodes.get(needed - 1), launcher, dir);
            }
            default -> throw new IllegalArgumentException("unknown system " + name);
        };
    }

    private void run() throws Exception {
        dir = Files.createTempDirectory("smalti-msgbench");
        // One self-signed certificate for every TLS link, pinned by the connecting side.
        SelfSignedCertificate ssc = new SelfSignedCertificate("localhost");
        cert = Files.copy(ssc.certificate().toPath(), dir.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        key = Files.copy(ssc.privateKey().toPath(), dir.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
        ssc.delete();
        List<MessagingSystem> systems = new ArrayList<>();
        try {
            for (String name : systemNames) {
                MessagingSystem s = create(name);
                if (s != null) {
                    systems.add(s);
                    log("starting " + name + ": " + s.path());
                    s.start();
                }
            }
            byte[] payload = new byte[payloadSize];
            Arrays.fill(payload, (byte) 'x');
            List<Figures> all = new ArrayList<>();
            for (int run = 1 - warmupRuns; run <= runs; run++) {
                List<Figures> figures = new ArrayList<>();
                for (int i = 0; i < systems.size(); i++) {
                    MessagingSystem s = systems.get(Math.floorMod(i + run - 1, systems.size()));
                    figures.add(measure(s, run, payload));
                }
                figures.sort((a, b) -> Integer.compare(systemNames.indexOf(a.system()), systemNames.indexOf(b.system())));
                if (run > 0) {
                    all.addAll(figures);
                }
                printRun(run, figures, systems);
            }
            Map<String, Object> summary = summarize(all, systems);
            if (json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                Map<String, Object> settings = new LinkedHashMap<>();
                settings.put("runs", runs);
                settings.put("warmupRuns", warmupRuns);
                settings.put("calls", calls);
                settings.put("warmup", warmup);
                settings.put("castSeconds", castSeconds);
                settings.put("castWarmupSeconds", castWarmup);
                settings.put("payloadBytes", payloadSize);
                settings.put("cpus", Runtime.getRuntime().availableProcessors());
                settings.put("java", System.getProperty("java.vm.version"));
                doc.put("settings", settings);
                doc.put("paths", systems.stream().collect(LinkedHashMap::new, (m, s) -> m.put(s.name(), s.path()), Map::putAll));
                doc.put("runs", all);
                doc.putAll(summary);
                System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
            }
        } finally {
            for (MessagingSystem s : systems) {
                s.close();
            }
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private Figures measure(MessagingSystem s, int run, byte[] payload) throws Exception {
        log("run " + run + ": " + s.name());
        for (int i = 0; i < warmup; i++) {
            s.call(payload);
        }
        Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            s.call(payload);
            h.recordValue(System.nanoTime() - t0);
        }
        double callSeconds = (System.nanoTime() - start) / 1e9;

        if (castWarmup > 0) {
            s.castFor(payload, (long) (castWarmup * 1e9));
        }
        // The reset travels behind the warm-up casts, so the receiver counts only what follows.
        s.resetReceiver();
        long castStart = System.nanoTime();
        long sent = s.castFor(payload, (long) (castSeconds * 1e9));
        double sendSeconds = (System.nanoTime() - castStart) / 1e9;
        MessagingSystem.Received r = s.received();
        return new Figures(s.name(), run, h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, calls / callSeconds, sent / sendSeconds, r.perSecond(),
                sent - r.count());
    }

    private void printRun(int run, List<Figures> figures, List<MessagingSystem> systems) {
        PrintStream out = json ? System.err : System.out;
        out.printf(Locale.ROOT, "%n%s (%d calls after %d warm-up, casts for %.0f s, %d-byte payloads)%n",
                run > 0 ? "Run " + run + " of " + runs : "Warm-up run (not counted)", calls, warmup, castSeconds, payloadSize);
        out.printf(Locale.ROOT, "  %-13s %-28s %9s %9s %9s %10s %12s %12s %9s%n",
                "system", "path", "p50 µs", "p99 µs", "p99.9 µs", "calls/s", "casts sent/s", "received/s", "lost");
        for (Figures f : figures) {
            String path = systems.stream().filter(s -> s.name().equals(f.system())).findFirst().map(MessagingSystem::path).orElse("");
            out.printf(Locale.ROOT, "  %-13s %-28s %9.0f %9.0f %9.0f %10.0f %12.0f %12.0f %9d%n",
                    f.system(), path, f.p50Micros(), f.p99Micros(), f.p999Micros(), f.callsPerSecond(),
                    f.castsSentPerSecond(), f.castsReceivedPerSecond(), f.castsLost());
        }
    }

    private Map<String, Object> summarize(List<Figures> all, List<MessagingSystem> systems) {
        PrintStream out = json ? System.err : System.out;
        out.printf(Locale.ROOT, "%nMedians of %d runs (%d CPUs)%n", runs, Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "  %-13s %9s %9s %9s %10s %12s%n", "system", "p50 µs", "p99 µs", "p99.9 µs", "calls/s", "received/s");
        Map<String, Object> medians = new LinkedHashMap<>();
        for (MessagingSystem s : systems) {
            List<Figures> mine = all.stream().filter(f -> f.system().equals(s.name())).toList();
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("p50Micros", median(mine, Figures::p50Micros));
            m.put("p99Micros", median(mine, Figures::p99Micros));
            m.put("p999Micros", median(mine, Figures::p999Micros));
            m.put("callsPerSecond", median(mine, Figures::callsPerSecond));
            m.put("castsReceivedPerSecond", median(mine, Figures::castsReceivedPerSecond));
            medians.put(s.name(), m);
            out.printf(Locale.ROOT, "  %-13s %9.0f %9.0f %9.0f %10.0f %12.0f%n", s.name(), m.get("p50Micros"),
                    m.get("p99Micros"), m.get("p999Micros"), m.get("callsPerSecond"), m.get("castsReceivedPerSecond"));
        }
        List<Map<String, Object>> ratios = new ArrayList<>();
        for (String[] pair : PAIRS) {
            List<Figures> a = all.stream().filter(f -> f.system().equals(pair[0])).toList();
            List<Figures> b = all.stream().filter(f -> f.system().equals(pair[1])).toList();
            if (a.isEmpty() || b.isEmpty()) {
                continue;
            }
            if (ratios.isEmpty()) {
                out.printf(Locale.ROOT, "%nRatios, median of the per-run ratios (latency: below 1 means the subject is faster; throughput: above 1)%n");
                out.printf(Locale.ROOT, "  %-27s %7s %7s %7s %12s%n", "subject / baseline", "p50", "p99", "p99.9", "received/s");
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("subject", pair[0]);
            r.put("baseline", pair[1]);
            r.put("p50", ratio(a, b, Figures::p50Micros));
            r.put("p99", ratio(a, b, Figures::p99Micros));
            r.put("p999", ratio(a, b, Figures::p999Micros));
            r.put("castsReceivedPerSecond", ratio(a, b, Figures::castsReceivedPerSecond));
            ratios.add(r);
            out.printf(Locale.ROOT, "  %-27s %7.2f %7.2f %7.2f %12.2f%n", pair[0] + " / " + pair[1],
                    r.get("p50"), r.get("p99"), r.get("p999"), r.get("castsReceivedPerSecond"));
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("medians", medians);
        summary.put("ratios", ratios);
        return summary;
    }

    private static double median(List<Figures> figures, ToDoubleFunction<Figures> metric) {
        return median(figures.stream().mapToDouble(metric).toArray());
    }

    /** The median of a/b taken run by run: both were measured minutes apart at most, on the same machine state. */
    private static double ratio(List<Figures> a, List<Figures> b, ToDoubleFunction<Figures> metric) {
        List<Double> r = new ArrayList<>();
        for (Figures x : a) {
            b.stream().filter(y -> y.run() == x.run()).findFirst()
                    .ifPresent(y -> r.add(metric.applyAsDouble(x) / metric.applyAsDouble(y)));
        }
        return median(r.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static void log(String message) {
        System.err.println("==> " + message);
    }

    private MessagingBench() {}
}
