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
 * component, listed once per node by one harness run and dumped into a static archive, so that every harness
 * after it maps them instead of loading and verifying them (its start-up takes about half as long), and all
 * harnesses of the node share those pages. Named by a digest of the java, the
 * harness's JVM options and class path (name, size, time of each jar): a new JDK or a new build makes a new
 * archive. A JVM given a missing or stale archive starts without it.
 */
final class HarnessArchive {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HarnessArchive.class);
    /** Runs the archive's two JVMs at low priority where it exists. */
    private static final Path NICE = Path.of("/usr/bin/nice");

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
     * component that exits at once) that lists the classes it loads, then dumps a static archive of exactly
     * those (JDK classes included: no second, relocated JDK archive beneath it). Blocks up to two minutes;
     * failures are logged (harnesses then start without the archive).
     */
    static void ensure(Path archive, ContainerSettings settings, String hubHost, int hubPort, String certificatePem,
                       io.smalti.component.instances.InstanceAgent.Enrolment enrolment) {
        if (Files.isRegularFile(archive)) {
            return;
        }
        Path classList = archive.resolveSibling(archive.getFileName() + ".classlist");
        Path tmp = archive.resolveSibling(archive.getFileName() + ".tmp");
        Path log = archive.resolveSibling("archive.log");
        try {
            OwnerOnly.directory(archive.getParent()); // the archive itself stays 0644: containers' ids read it
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(classList);
            long t0 = System.nanoTime();
            // 1. The harness exactly as the drivers launch it, plus the option that lists its classes.
            List<String> cmd = harnessCommand(settings, "-XX:DumpLoadedClassList=" + classList);
            ObjectMapper json = new ObjectMapper();
            ObjectNode config = json.createObjectNode();
            String component = Id.random(Category.INSTANCE, new SecureRandom()).toString();
            config.put("component", component);
            // It enrols as a real harness does, so the archive holds the classes of enrolment and client TLS too.
            config.putObject("hub").put("host", hubHost).put("port", hubPort).put("certificate", certificatePem)
                    .put("token", enrolment.token(component));
            config.putArray("command").add("/bin/true");
            config.put("socket", archive.getParent().resolve("archive.sock").toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(json.writeValueAsBytes(config));
            }
            boolean listed = finished(p, "lists its classes");
            enrolment.revoke(component); // that harness is done: its certificate must not outlive it
            if (!listed || !Files.isRegularFile(classList)) {
                return;
            }
            // 2. The archive, with the same options (the JVM that maps it must match them) and class path.
            List<String> dumpCmd = harnessCommand(settings, "-Xshare:dump", "-XX:SharedClassListFile=" + classList,
                    "-XX:SharedArchiveFile=" + tmp);
            dumpCmd.remove(dumpCmd.size() - 1); // no main class: -Xshare:dump exits when the archive is written
            p = new ProcessBuilder(dumpCmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            p.getOutputStream().close();
            if (!finished(p, "dumps the archive")) {
                return;
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(tmp)) {
                LOG.warn("Dumping the harness's class-data archive failed ({}); see {}", p.exitValue(), log);
                return;
            }
            Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.info("Made the harness's class-data archive {} in {} ms", archive, (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException e) {
            LOG.warn("Cannot make the harness's class-data archive {}: {}", archive, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                Files.deleteIfExists(classList);
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover is replaced by the next attempt
            }
        }
    }

    /**
     * The harness's command as the drivers run it, with more JVM options; at low priority where {@code nice}
     * exists: the archive is made while the node starts (joins, takes over replicas), which must not wait for it.
     */
    private static List<String> harnessCommand(ContainerSettings settings, String... extraOptions) {
        List<String> options = new ArrayList<>(settings.jvmOptions());
        options.addAll(List.of(extraOptions));
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(NICE)) {
            cmd.addAll(List.of(NICE.toString(), "-n", "15"));
        }
        cmd.addAll(HarnessLaunch.command(settings.withHarness(settings.javaExecutable(), settings.harnessClasspath(), options)));
        return cmd;
    }

    private static boolean finished(Process p, String what) throws InterruptedException {
        if (p.waitFor(60, TimeUnit.SECONDS)) {
            return true;
        }
        p.destroyForcibly();
        LOG.warn("The harness run that {} did not end within 60 s; harnesses start without a class-data archive", what);
        return false;
    }
}
