package io.smalti.credentials.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smalti.credentials.CredentialsException;
import io.smalti.protocol.credentials.AuditEvent;
import io.smalti.protocol.credentials.Identity;
import io.smalti.protocol.credentials.VaultOperation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The vault's audit trail: one JSON line per use or refusal in {@value #FILE} (mode 0600, only ever appended to),
 * which moves to {@value #ROTATED} when it would pass its size limit, so the trail on disk stays under twice that.
 * An event holds who, what, which credential, the outcome and why, and of an input only its length and SHA-256:
 * never a secret. Not thread-safe: its one owner is the credentials service's request thread.
 */
public final class Audit implements AutoCloseable {
    public static final String FILE = "audit.log";
    public static final String ROTATED = "audit.log.1";
    /** The most events one request reads back. */
    public static final int MAX_LATEST = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(Audit.class);

    private final Path file;
    private final Path rotated;
    private final long maxBytes;
    private FileChannel out;
    private long size;

    /**
     * Opens (or creates) the audit log in {@code dir}.
     *
     * @param maxBytes the size at which the log rotates (at least 4 KiB)
     */
    public Audit(Path dir, long maxBytes) {
        if (maxBytes < 4096) {
            throw new IllegalArgumentException("the audit log's size limit must be at least 4096 bytes, not " + maxBytes);
        }
        this.file = dir.resolve(FILE);
        this.rotated = dir.resolve(ROTATED);
        this.maxBytes = maxBytes;
        open();
    }

    /** The SHA-256 of an input, in hex, as events hold it; empty for no input. */
    public static String hash(byte[] input) {
        return input == null ? "" : SigV4.payloadHash(input);
    }

    /**
     * Appends an event.
     *
     * @throws CredentialsException when it cannot be written (the operation it records must then not be answered)
     */
    public void record(AuditEvent e) {
        byte[] line = (json(e) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (size > 0 && size + line.length > maxBytes) {
                out.close();
                Files.move(file, rotated, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                open();
            }
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                out.write(b);
            }
            size += line.length;
        } catch (IOException x) {
            throw new CredentialsException("cannot write the audit log " + file + ": " + x, x);
        }
    }

    /** The latest {@code n} events (at most {@value #MAX_LATEST}), oldest first. */
    public List<AuditEvent> latest(int n) {
        int want = Math.max(0, Math.min(n, MAX_LATEST));
        Deque<String> lines = new ArrayDeque<>(want + 1);
        for (Path p : List.of(rotated, file)) {
            try {
                for (String l : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    if (!l.endsWith("}")) {
                        continue; // blank, or cut short by a crash mid-write
                    }
                    lines.addLast(l);
                    if (lines.size() > want) {
                        lines.removeFirst();
                    }
                }
            } catch (NoSuchFileException x) {
                // not rotated yet
            } catch (IOException x) {
                throw new CredentialsException("cannot read the audit log " + p + ": " + x, x);
            }
        }
        List<AuditEvent> out = new ArrayList<>(lines.size());
        for (String l : lines) {
            try {
                out.add(parse(l));
            } catch (CredentialsException x) {
                // A line cut short by a crash mid-write: the rest of the trail is still worth reading.
                LOG.warn("Skipped a damaged audit line: {}", x.getMessage());
            }
        }
        return out;
    }

    private void open() {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            boolean cut;
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer last = ByteBuffer.allocate(1);
                cut = in.size() > 0 && in.read(last, in.size() - 1) == 1 && last.get(0) != '\n';
            }
            out = FileChannel.open(file, Set.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND));
            size = out.size();
            if (cut) {
                // A crash cut the last line short: end it, so that the next event starts a line of its own.
                out.write(ByteBuffer.wrap(new byte[] {'\n'}));
                size++;
            }
        } catch (IOException e) {
            throw new CredentialsException("cannot open the audit log " + file + ": " + e, e);
        }
    }

    /** One event as a JSON object, written by hand: Jackson's tree took about a third of a vault HMAC's time. */
    static String json(AuditEvent e) {
        StringBuilder b = new StringBuilder(320).append('{');
        field(b, "time", Instant.ofEpochMilli(e.getTimeMs()).toString());
        field(b.append(','), "subsystem", e.getCaller().getSubsystem());
        field(b.append(','), "uid", e.getCaller().getUid());
        if (!e.getCaller().getNode().isEmpty()) {
            field(b.append(','), "node", e.getCaller().getNode());
        }
        if (!e.getComponentType().isEmpty()) {
            field(b.append(','), "componentType", e.getComponentType());
        }
        field(b.append(','), "operation", e.getOperation().name());
        field(b.append(','), "credential", e.getCredential());
        field(b.append(','), "outcome", e.getOutcome().name());
        if (!e.getReason().isEmpty()) {
            field(b.append(','), "reason", e.getReason());
        }
        if (!e.getInputSha256().isEmpty()) {
            b.append(",\"inputLength\":").append(e.getInputLength());
            field(b.append(','), "inputSha256", e.getInputSha256());
        }
        return b.append('}').toString();
    }

    private static void field(StringBuilder b, String name, String value) {
        b.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    static AuditEvent parse(String line) {
        try {
            JsonNode o = JSON.readTree(line);
            return AuditEvent.newBuilder()
                    .setTimeMs(Instant.parse(o.path("time").asText()).toEpochMilli())
                    .setCaller(Identity.newBuilder().setSubsystem(o.path("subsystem").asText())
                            .setUid(o.path("uid").asText()).setNode(o.path("node").asText("")))
                    .setComponentType(o.path("componentType").asText(""))
                    .setOperation(VaultOperation.valueOf(o.path("operation").asText()))
                    .setCredential(o.path("credential").asText(""))
                    .setOutcome(AuditEvent.Outcome.valueOf(o.path("outcome").asText()))
                    .setReason(o.path("reason").asText(""))
                    .setInputLength(o.path("inputLength").asLong(0))
                    .setInputSha256(o.path("inputSha256").asText(""))
                    .build();
        } catch (IOException | RuntimeException x) {
            throw new CredentialsException("the audit log holds a damaged line (" + x.getMessage() + "): "
                    + line.substring(0, Math.min(line.length(), 200)), x);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
