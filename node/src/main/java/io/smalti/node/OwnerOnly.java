package io.smalti.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Keeps a node's data directory readable by its owner only: the directory 0700, what the node keeps directly in it
 * (journal, ring, lock, hub key, bundles, containers' state) 0700 or 0600. Java has no umask to set, and H2 creates
 * its journal files with the process's (0644 with the usual 022): the directory's own 0700 is what keeps other
 * users out of everything below it, whatever the files' modes. Nothing deeper is changed: an extracted bundle
 * (bundles/&lt;digest&gt;) and the harness's class archive must stay readable by containers' ids, which reach them
 * through bind and overlay mounts made by root, never by walking the data directory. Stateless.
 */
final class OwnerOnly {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OwnerOnly.class);
    static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private OwnerOnly() {}

    /**
     * Creates {@code dir} (its missing parents as usual, itself 0700), or makes an existing one 0700.
     *
     * @throws IOException when it cannot be created; one that exists but cannot be changed (another user's) is
     *     logged and left as it is
     */
    static void directory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made meanwhile (or a file: the caller's next step says so); its mode is set below
            }
        }
        restrict(dir, DIR, true);
    }

    /**
     * Makes the data directory 0700 and each entry directly in it 0700 (directories) or 0600 (files); symbolic links
     * and what they point to are left alone. Logs what it changed, once: a data directory made by an earlier version
     * was 0755, its journal 0644.
     */
    static void restrictDataDir(Path dataDir) {
        restrict(dataDir, DIR, true);
        try (Stream<Path> entries = Files.list(dataDir)) {
            entries.forEach(p -> {
                if (Files.isSymbolicLink(p)) {
                    return;
                }
                restrict(p, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? DIR : FILE, false);
            });
        } catch (IOException e) {
            LOG.warn("Cannot list data directory {} to make its files owner-only: {}", dataDir, e.getMessage());
        }
    }

    /**
     * Sets {@code p}'s mode, logging a change ({@code tell}: for an operator to read; else at debug: H2 makes its
     * files 0644 on every new journal) and, without failing, a file it may not change.
     */
    static void restrict(Path p, Set<PosixFilePermission> perms, boolean tell) {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            return; // not a POSIX file system: nothing to set
        }
        try {
            Set<PosixFilePermission> before = view.readAttributes().permissions();
            if (!before.equals(perms)) {
                view.setPermissions(perms);
                String message = "{} was {}: now {}, readable by its owner only";
                if (tell) {
                    LOG.info(message, p, PosixFilePermissions.toString(before), PosixFilePermissions.toString(perms));
                } else {
                    LOG.debug(message, p, PosixFilePermissions.toString(before), PosixFilePermissions.toString(perms));
                }
            }
        } catch (java.nio.file.NoSuchFileException gone) {
            // removed meanwhile (a temporary file): nothing to protect
        } catch (IOException e) {
            LOG.warn("Cannot make {} readable by its owner only: {}", p, e.toString());
        }
    }
}
