package io.smalti.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL journal: a node agent journals to a real PostgreSQL server (Debian's, started on
 * loopback by this test in a directory of its own), is killed, restarts, and recovers every record from
 * the database. Skipped, saying why, where PostgreSQL is not installed or cannot be run (it refuses to
 * run as root, so the test runs it as the {@code postgres} user, which needs root).
 */
class PostgresJournalIT {
    @TempDir
    Path work;

    private Path pgRoot;
    private Path pgBin;
    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (NodeProcess n : nodes) {
            n.kill();
        }
        if (pgRoot != null) {
            asPostgres(pgBin.resolve("pg_ctl").toString(), "-D", pgRoot.resolve("db").toString(), "-m", "immediate", "stop");
            try (Stream<Path> files = Files.walk(pgRoot)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aNodeRecoversItsReplicasFromPostgres() throws Exception {
        pgBin = findPostgres();
        assumeTrue(pgBin != null, "PostgreSQL is not installed (Debian package postgresql); skipped");
        assumeTrue("root".equals(System.getProperty("user.name")),
                "starting PostgreSQL as the postgres user needs root; skipped");
        int port = Dist.freePort("127.0.0.1");
        startPostgres(port);

        Path conf = work.resolve("pg.conf");
        Files.writeString(conf, """
                smalti.storage {
                  journal = "postgres"
                  postgres { url = "jdbc:postgresql://127.0.0.1:%d/smalti", user = "smalti", password = "" }
                }
                """.formatted(port));
        NodeProcess n1 = NodeProcess.start(work, "n1", "127.0.23.1", null, "--config", conf.toString());
        nodes.add(n1);
        try {
            Dist.await(Duration.ofSeconds(90), "n1 to serve", () -> Dist.getJson(n1.api() + "/healthz"));
            assertTrue(n1.logText().contains("journal postgres jdbc:postgresql://127.0.0.1:" + port), "n1 journals to PostgreSQL");
            KvLoad kv = new KvLoad();
            assertEquals(0, kv.writeMany("pg", 2_000, n1::api, 16), "every write acknowledged");

            n1.kill();
            n1.restart();
            Dist.await(Duration.ofSeconds(90), "n1 to serve again", () -> Dist.getJson(n1.api() + "/healthz"));
            List<String> lost = kv.lost(n1::api, 16);
            System.out.println("PostgreSQL journal: after SIGKILL and restart, acknowledged writes lost: " + lost.size());
            assertEquals(0, lost.size(), "lost: " + lost.subList(0, Math.min(5, lost.size())));
            assertTrue(n1.logText().contains("recovered"), "replicas were recovered from the database");
            assertTrue(Files.notExists(n1.dataDir.resolve("journal.mv.db")), "no H2 journal was created");
        } catch (Throwable t) {
            System.out.println("===== log of n1 =====\n" + n1.logText());
            throw t;
        }
    }

    private static Path findPostgres() throws IOException {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return null;
        }
        try (Stream<Path> versions = Files.list(base)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(java.util.Comparator.naturalOrder()).orElse(null);
        }
    }

    private void startPostgres(int port) throws Exception {
        // A directory the postgres user can reach (the test's own temporary directory may not be).
        pgRoot = Files.createTempDirectory(Path.of("/tmp"), "smalti-pg-");
        run("chown", "postgres:postgres", pgRoot.toString());
        run("chmod", "700", pgRoot.toString());
        asPostgres(pgBin.resolve("initdb").toString(), "-D", pgRoot.resolve("db").toString(), "-U", "smalti",
                "--auth=trust", "--no-sync");
        asPostgres(pgBin.resolve("pg_ctl").toString(), "-D", pgRoot.resolve("db").toString(), "-w", "-t", "60",
                "-l", pgRoot.resolve("server.log").toString(), "-o",
                "-p " + port + " -h 127.0.0.1 -k " + pgRoot, "start");
        asPostgres(pgBin.resolve("createdb").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "smalti",
                "smalti");
    }

    private static void asPostgres(String... cmd) throws Exception {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(List.of(cmd));
        run(full.toArray(String[]::new));
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
