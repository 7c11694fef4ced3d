package io.smalti.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The per-instance directories under {@code <state>/instances/<id>} and their {@code instance.json} record. The
 * record is what survives a restart of the node agent: it names the container, the address and the ports it
 * holds. Thread-safe (file operations; writes are atomic renames).
 */
public final class InstanceStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String RECORD = "instance.json";

    private final Path root;

    public InstanceStore(Path stateDir) {
        this.root = stateDir.resolve("instances");
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new ContainerException("cannot create the state directory " + root + ": " + e, e);
        }
    }

    public Path dir(String instance) {
        if (!ContainerSpec.isInstanceId(instance)) {
            throw new IllegalArgumentException("instance: expected 40 lowercase hex digits, got \"" + instance + "\"");
        }
        return root.resolve(instance);
    }

    public boolean exists(String instance) {
        return Files.isDirectory(dir(instance));
    }

    /** Instance ids that have a directory. */
    public List<String> ids() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (ContainerSpec.isInstanceId(name) && Files.isDirectory(p)) {
                    out.add(name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.sort(null);
        return out;
    }

    public ObjectNode newRecord() {
        return JSON.createObjectNode();
    }

    public void write(String instance, ObjectNode record) {
        Path dir = dir(instance);
        Path tmp = dir.resolve(RECORD + ".tmp");
        try {
            Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(record));
            Files.move(tmp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ContainerException("instance " + instance + ": cannot write " + dir.resolve(RECORD) + ": " + e, e);
        }
    }

    public Optional<JsonNode> read(String instance) {
        Path f = dir(instance).resolve(RECORD);
        try {
            return Files.exists(f) ? Optional.of(JSON.readTree(f.toFile())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // a torn record is treated as no record: destroy still removes the dir
        }
    }

    /** Deletes a tree without following symbolic links; stays on the directory's own file system. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
