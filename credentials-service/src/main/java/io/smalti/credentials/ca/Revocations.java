package io.smalti.credentials.ca;

import io.smalti.credentials.CredentialsException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which certificates were issued to which uid, and which of those are revoked, kept in two append-only files of a
 * credentials directory ({@code issued.log}, {@code revoked.log}: serial, uid, expiry) so that a restarted service
 * still revokes what it issued before. Entries past their certificate's expiry are dropped on load: an expired
 * certificate is refused anyway. Not thread-safe: owned by the credentials service's thread.
 */
public final class Revocations {
    private final Path issuedFile;
    private final Path revokedFile;
    /** uid -> serial -> expiry (epoch ms). */
    private final Map<String, Map<BigInteger, Long>> issued = new HashMap<>();
    private final Map<BigInteger, Long> revoked = new LinkedHashMap<>();

    public Revocations(Path dir, Instant now) {
        this.issuedFile = dir.resolve("issued.log");
        this.revokedFile = dir.resolve("revoked.log");
        for (String[] e : read(issuedFile, now)) {
            issued.computeIfAbsent(e[1], u -> new LinkedHashMap<>()).put(new BigInteger(e[0], 16), Long.parseLong(e[2]));
        }
        for (String[] e : read(revokedFile, now)) {
            revoked.put(new BigInteger(e[0], 16), Long.parseLong(e[2]));
        }
        rewrite(issuedFile, issued.entrySet().stream().flatMap(u -> u.getValue().entrySet().stream()
                .map(s -> line(s.getKey(), u.getKey(), s.getValue()))).toList());
        rewrite(revokedFile, revoked.entrySet().stream().map(s -> line(s.getKey(), "-", s.getValue())).toList());
    }

    /** Records a certificate just issued. */
    public void issued(String uid, BigInteger serial, Instant notAfter) {
        issued.computeIfAbsent(uid, u -> new LinkedHashMap<>()).put(serial, notAfter.toEpochMilli());
        append(issuedFile, line(serial, uid, notAfter.toEpochMilli()));
    }

    /** Revokes every unexpired certificate issued to {@code uid}; returns how many. */
    public int revoke(String uid, Instant now) {
        Map<BigInteger, Long> certs = issued.remove(uid);
        if (certs == null) {
            return 0;
        }
        int n = 0;
        for (Map.Entry<BigInteger, Long> c : certs.entrySet()) {
            if (c.getValue() > now.toEpochMilli() && revoked.putIfAbsent(c.getKey(), c.getValue()) == null) {
                append(revokedFile, line(c.getKey(), uid, c.getValue()));
                n++;
            }
        }
        return n;
    }

    /** Revoked serials whose certificates have not expired yet. */
    public List<BigInteger> revoked(Instant now) {
        revoked.values().removeIf(exp -> exp <= now.toEpochMilli());
        return new ArrayList<>(revoked.keySet());
    }

    private static String line(BigInteger serial, String uid, long notAfter) {
        return serial.toString(16) + " " + uid + " " + notAfter + "\n";
    }

    private static List<String[]> read(Path file, Instant now) {
        List<String[]> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        try {
            for (String l : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                String[] f = l.trim().split(" ");
                // A torn last line (crash while appending) is skipped, as is anything expired.
                if (f.length == 3 && f[0].matches("[0-9a-f]{1,64}") && f[2].matches("[0-9]{1,19}")
                        && Long.parseLong(f[2]) > now.toEpochMilli()) {
                    out.add(f);
                }
            }
        } catch (IOException e) {
            throw new CredentialsException("cannot read " + file + ": " + e, e);
        }
        return out;
    }

    private static void rewrite(Path file, List<String> lines) {
        io.smalti.credentials.Files2.writePrivate(file, String.join("", lines).getBytes(StandardCharsets.US_ASCII));
    }

    private static void append(Path file, String line) {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, line, StandardCharsets.US_ASCII, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new CredentialsException("cannot write " + file + ": " + e, e);
        }
    }
}
