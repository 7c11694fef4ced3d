package io.smalti.ring.cluster;

import io.smalti.ring.Ring;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Keeps the last ring a node applied in its data directory ({@code ring.pb}, a {@code RingState}
 * message), so a restarted node knows the ownership it left with. Writes are atomic: a temporary file is
 * synced and renamed over the old one, so a crash leaves either the old or the new ring.
 *
 * <p>Not thread-safe; the ring manager is its only user.
 */
public final class RingStore {
    public static final String FILE_NAME = "ring.pb";

    private final Path file;
    private final Path temp;

    public RingStore(Path dataDir) {
        this.file = dataDir.resolve(FILE_NAME);
        this.temp = dataDir.resolve(FILE_NAME + ".tmp");
    }

    public Path file() {
        return file;
    }

    /**
     * The stored ring, if any.
     *
     * @throws IllegalStateException naming the file when it exists but cannot be read as a ring
     */
    public Optional<Ring> load() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(RingCodec.fromBytes(Files.readAllBytes(file)));
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot read the stored ring " + file + ": " + e.getMessage(), e);
        }
    }

    public void save(Ring ring) {
        byte[] bytes = RingCodec.toBytes(ring);
        // Owner-only like the rest of the data directory; the rename keeps the mode.
        try (FileChannel ch = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")))) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + temp, e);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + file, e);
        }
    }
}
