package io.smalti.ring.vnode;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.Map;

/**
 * Builds the Pekko configuration of a node's journal from the {@code smalti.storage} section: an
 * embedded H2 database file in the node's data directory (the default), or a PostgreSQL database.
 * Journal, snapshot store and read journal share one connection pool ({@code smalti}).
 */
public final class JournalConfig {
    private static final String DB = "pekko-persistence-jdbc.shared-databases.smalti";

    private JournalConfig() {}

    /**
     * The journal configuration for {@code storage} (the {@code smalti.storage} section).
     *
     * @throws IllegalArgumentException naming the setting that is wrong
     */
    public static Config from(Config storage, Path dataDir) {
        String kind = storage.getString("journal");
        return switch (kind) {
            case "h2" -> h2(dataDir.resolve("journal"), storage.getInt("h2.pool-size"));
            case "postgres" -> postgres(storage.getString("postgres.url"), storage.getString("postgres.user"),
                    storage.getString("postgres.password"), storage.getInt("postgres.pool-size"));
            default -> throw new IllegalArgumentException(
                    "smalti.storage.journal must be \"h2\" or \"postgres\", got \"" + kind + "\"");
        };
    }

    /** An embedded H2 file database at {@code file} (H2 adds {@code .mv.db}). */
    public static Config h2(Path file, int poolSize) {
        // DB_CLOSE_ON_EXIT=FALSE: the actor system closes the pool itself, after the journal's last write.
        String url = "jdbc:h2:file:" + file.toAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE";
        return database("slick.jdbc.H2Profile$", "org.h2.Driver", url, "sa", "", poolSize);
    }

    public static Config postgres(String url, String user, String password, int poolSize) {
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("smalti.storage.postgres.url must start with jdbc:postgresql:, got " + url);
        }
        return database("slick.jdbc.PostgresProfile$", "org.postgresql.Driver", url, user, password, poolSize);
    }

    private static Config database(String profile, String driver, String url, String user, String password, int pool) {
        return ConfigFactory.parseMap(Map.of(
                DB + ".profile", profile,
                DB + ".db.driver", driver,
                DB + ".db.url", url,
                DB + ".db.user", user,
                DB + ".db.password", password,
                DB + ".db.numThreads", pool,
                DB + ".db.maxConnections", pool,
                DB + ".db.minConnections", 1,
                DB + ".db.connectionPool", "HikariCP"))
                .withValue("jdbc-journal.use-shared-db", ConfigValueFactory.fromAnyRef("smalti"));
    }
}
