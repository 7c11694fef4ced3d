package io.smalti.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smalti.container.ContainerSettings;
import io.smalti.container.HarnessLaunch;
import io.smalti.ring.id.Category;
import io.smalti.ring.id.Id;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The harness's class-data archive (AppCDS): the classes a harness loads to reach its hub and start its
 * component, saved once per node by one harness run, so that every harness after it maps them instead of
 * loading and verifying them (its start-up takes about half as long). Named by a digest of the java, the
 * harness's JVM options and class path (name, size, time of each jar): a new JDK or a new build makes a new
 * archive. A JVM given a missing or stale archive starts without it.
 */
final class HarnessArchive {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HarnessArchive.class);

    private HarnessArchive() {}

    /** Where the archive for these settings is (or will be), in {@code dir}. */
    static Path path(Path dir, ContainerSettings settings) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(settings.javaExecutable().toString().getBytes(StandardCharsets.UTF_8));
            settings.jvmOptions().forEach(o -> sha.update(o.getBytes(StandardCharsets.UTF_8)));
            for (Path jar : settings.harnessClasspath()) {
                sha.update(jar.toString().getBytes(StandardCharsets.UTF_8));
                try {
                    sha.update((Files.size(jar) + "/" + Files.getLastModifiedTime(jar).toMillis()).getBytes(StandardCharsets.UTF_8));
                } catch (IOException gone) {
                    sha.update((byte) 0);
                }
            }
            return dir.resolve("harness-" + HexFormat.of().formatHex(sha.digest(), 0, 8) + ".jsa");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Makes the archive unless it exists: runs one harness against this node's hub (on the host, with a
     * component that exits at once) with {@code -XX:ArchiveClassesAtExit}. Blocks up to a minute; failures
     * are logged (harnesses then start without the archive).
     */
    static void ensure(Path archive, ContainerSettings settings, String hubHost, int hubPort, String certificatePem) {
        if (Files.isRegularFile(archive)) {
            return;
        }
        Path tmp = archive.resolveSibling(archive.getFileName() + ".tmp");
        try {
            Files.createDirectories(archive.getParent());
            Files.deleteIfExists(tmp);
            // The harness exactly as the drivers launch it, plus the option that writes the archive.
            List<String> options = new ArrayList<>(settings.jvmOptions());
            options.add("-XX:ArchiveClassesAtExit=" + tmp);
            List<String> cmd = HarnessLaunch.command(settings.withHarness(settings.javaExecutable(),
                    settings.harnessClasspath(), options));
            ObjectNode config = new ObjectMapper().createObjectNode();
            config.put("component", Id.random(Category.INSTANCE, new SecureRandom()).toString());
            config.putObject("hub").put("host", hubHost).put("port", hubPort).put("certificate", certificatePem);
            config.putArray("command").add("/bin/true");
            config.put("socket", archive.getParent().resolve("archive.sock").toString());
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(archive.resolveSibling("archive.log").toFile()).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(new ObjectMapper().writeValueAsBytes(config));
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                LOG.warn("The harness run that makes its class-data archive did not end within 60 s; harnesses start without it");
                return;
            }
            if (!Files.isRegularFile(tmp)) {
                LOG.warn("The harness run ended ({}) without writing its class-data archive; see {}", p.exitValue(),
                        archive.resolveSibling("archive.log"));
                return;
            }
            Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.info("Made the harness's class-data archive {} in {} ms", archive, (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException e) {
            LOG.warn("Cannot make the harness's class-data archive {}: {}", archive, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
