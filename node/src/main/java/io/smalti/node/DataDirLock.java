package io.smalti.node;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a data directory, so two node agents never share one (they would corrupt each
 * other's ring and journals). The lock file holds the owner's PID for the error message; the operating
 * system releases the lock when the process dies, so a stale file never blocks a restart.
 */
final class DataDirLock implements AutoCloseable {
    static final String FILE_NAME = "node.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates the directory if needed (0700; an existing one is made 0700: see {@link OwnerOnly}) and locks it.
     *
     * @throws IllegalStateException saying which process holds it, or why the directory is unusable
     */
    static DataDirLock acquire(Path dataDir) {
        try {
            OwnerOnly.directory(dataDir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create data directory " + dataDir + ": " + e);
        }
        Path file = dataDir.resolve(FILE_NAME);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(OwnerOnly.FILE));
            OwnerOnly.restrict(file, OwnerOnly.FILE, false); // made by an earlier version: 0644
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                ch.close();
                throw new IllegalStateException("data directory " + dataDir
                        + " is in use by another node agent in this process");
            }
            if (lock == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
                ch.close();
                throw new IllegalStateException("data directory " + dataDir + " is in use by another node agent"
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")"));
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
            return new DataDirLock(ch, lock);
        } catch (IOException e) {
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // already failing
            }
            throw new IllegalStateException("cannot lock data directory " + dataDir + ": " + e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the process is ending; the OS drops the lock anyway
        }
    }
}
