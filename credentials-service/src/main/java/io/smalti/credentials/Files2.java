package io.smalti.credentials;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Properties;

/** File helpers of the credentials service: everything it writes is its owner's only, and replaced atomically. */
public final class Files2 {
    private Files2() {
    }

    /** Writes {@code data} to {@code file} (mode 0600, directory 0700), replacing it atomically. */
    public static void writePrivate(Path file, byte[] data) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            }
            Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, data, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CredentialsException("cannot write " + file + ": " + e, e);
        }
    }

    public static byte[] read(Path file, String what) {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CredentialsException(what + " " + file + " does not exist");
        } catch (IOException e) {
            throw new CredentialsException("cannot read " + what + " " + file + ": " + e, e);
        }
    }

    static byte[] properties(Properties p) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            p.store(out, "Smalti credentials; do not edit");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    static Properties readProperties(Path file) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CredentialsException(file + " does not exist: these credentials were never initialised "
                    + "(smalti cluster init)");
        } catch (IOException | IllegalArgumentException e) {
            throw new CredentialsException("cannot read " + file + ": " + e, e);
        }
        return p;
    }
}
