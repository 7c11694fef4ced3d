package io.smalti.bundle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * A developer's Ed25519 signing key. The private key file holds one line
 * {@code smalti-ed25519-private <base64 raw 32-byte key> <comment>}, mode 0600; the public key is saved beside it as
 * {@code <file>.pub}. Immutable and thread-safe.
 */
public final class DeveloperKey {
    /** The first word of the private key file. */
    public static final String TYPE = "smalti-ed25519-private";

    private final Ed25519PrivateKeyParameters key;
    private final TrustedKey publicKey;

    private DeveloperKey(Ed25519PrivateKeyParameters key, String comment) {
        this.key = key;
        this.publicKey = new TrustedKey(key.generatePublicKey().getEncoded(), comment);
    }

    /** A new random key. */
    public static DeveloperKey generate() {
        return generate(defaultComment());
    }

    /** A new random key with the comment its public key shows. */
    public static DeveloperKey generate(String comment) {
        return new DeveloperKey(new Ed25519PrivateKeyParameters(new SecureRandom()), comment);
    }

    /** {@code user@host}, so that a node's list of trusted keys says whose each is. */
    static String defaultComment() {
        String host = System.getenv("HOSTNAME");
        String user = System.getProperty("user.name", "developer");
        return host == null || host.isBlank() ? user : user + "@" + host;
    }

    /** The public half, to give to the nodes that should run this developer's bundles. */
    public TrustedKey publicKey() {
        return publicKey;
    }

    /** The Ed25519 signature of {@code message}. */
    public byte[] sign(byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    /**
     * Writes the private key to {@code privateFile} (mode 0600, created with that mode so that it is never
     * readable by others, refused if it exists) and the public key to {@code <privateFile>.pub}.
     */
    public void save(Path privateFile) {
        Path pub = publicFile(privateFile);
        try {
            Path dir = privateFile.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            String line = (TYPE + " " + Base64.getEncoder().encodeToString(key.getEncoded()) + " "
                    + publicKey.comment()).strip() + "\n";
            try {
                Files.write(Files.createFile(privateFile, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------"))), line.getBytes(StandardCharsets.UTF_8),
                        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            } catch (FileAlreadyExistsException e) {
                throw new BundleException(privateFile + ": exists; not overwriting a key");
            }
            Path tmp = pub.resolveSibling(pub.getFileName() + ".tmp");
            Files.writeString(tmp, publicKey.toText() + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, pub, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new BundleException("cannot save key " + privateFile + ": " + e.getMessage(), e);
        }
    }

    /** The public key file of a private key file: {@code <privateFile>.pub}. */
    public static Path publicFile(Path privateFile) {
        return privateFile.resolveSibling(privateFile.getFileName() + ".pub");
    }

    /** Reads a private key file written by {@link #save}. */
    public static DeveloperKey load(Path privateFile) {
        String text;
        try {
            text = Files.readString(privateFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new BundleException("cannot read key " + privateFile + ": " + e.getMessage(), e);
        }
        String[] parts = text.split("\\s+", 3);
        if (text.contains("\n") || parts.length < 2 || !parts[0].equals(TYPE)) {
            throw new BundleException(privateFile + ": not a smalti private key (one line '" + TYPE
                    + " <base64 key> <comment>')");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw new BundleException(privateFile + ": key is not base64");
        }
        if (raw.length != Ed25519PrivateKeyParameters.KEY_SIZE) {
            throw new BundleException(privateFile + ": key must be 32 bytes, not " + raw.length);
        }
        return new DeveloperKey(new Ed25519PrivateKeyParameters(raw, 0), parts.length == 3 ? parts[2] : "");
    }

    /** Loads {@code privateFile}, or generates and saves a new key there when there is none. */
    public static DeveloperKey loadOrCreate(Path privateFile) {
        if (Files.exists(privateFile, LinkOption.NOFOLLOW_LINKS)) {
            return load(privateFile);
        }
        DeveloperKey k = generate();
        k.save(privateFile);
        return k;
    }

    @Override
    public String toString() {
        return "DeveloperKey[" + publicKey.id() + "]"; // never the secret
    }
}
