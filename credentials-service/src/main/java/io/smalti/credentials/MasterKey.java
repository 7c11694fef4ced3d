package io.smalti.credentials;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Properties;
import java.util.Set;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * The key everything a credentials service keeps at rest is encrypted under (the CA key, the vault), derived with
 * Argon2id (memory-hard, so a stolen disk does not give up a weak passphrase cheaply) from an operator's passphrase
 * or key file. The derivation's salt and parameters, and a check value that tells a wrong secret from a damaged
 * file, live in {@code master.params} beside what it protects. Immutable and thread-safe.
 *
 * <p>Sealed data is AES-256-GCM with a fresh 96-bit nonce and the data's purpose as associated data, so a file
 * that was altered, or moved into another file's place, does not open.
 */
public final class MasterKey {
    public static final String PARAMS_FILE = "master.params";
    private static final byte[] MAGIC = "SMSEAL1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    /** Default Argon2id cost: 64 MiB, 3 passes (about 0.3 s here, once per service start). */
    static final int MEMORY_KIB = 64 * 1024;
    static final int ITERATIONS = 3;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    private MasterKey(byte[] raw) {
        this.key = new SecretKeySpec(raw, "AES");
    }

    /**
     * Reads an operator's secret: a passphrase or key file, at least 16 bytes, readable by its owner only.
     *
     * @throws CredentialsException saying what is wrong with the file
     */
    public static byte[] readSecret(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                throw new CredentialsException("the master key file " + file + " is readable by other users: "
                        + "chmod 600 it (it protects the cluster CA key and every secret)");
            }
            byte[] secret = Files.readAllBytes(file);
            int end = secret.length;
            while (end > 0 && (secret[end - 1] == '\n' || secret[end - 1] == '\r')) {
                end--;
            }
            if (end < 16) {
                throw new CredentialsException("the master key file " + file + " holds " + end
                        + " bytes; a passphrase or key of at least 16 is needed");
            }
            return Arrays.copyOf(secret, end);
        } catch (IOException e) {
            throw new CredentialsException("cannot read the master key file " + file + ": " + e, e);
        }
    }

    /** Makes a new random key file (32 random bytes, base64, mode 0600) for a new cluster. */
    public static void writeNewSecret(Path file) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        Files2.writePrivate(file, (Base64.getEncoder().encodeToString(raw) + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Derives a new master key (fresh salt) and records its parameters in {@code dir}; refuses if some exist. */
    public static MasterKey create(Path dir, byte[] secret) {
        Path params = dir.resolve(PARAMS_FILE);
        if (Files.exists(params)) {
            throw new CredentialsException(params + " exists: these credentials were initialised already");
        }
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        MasterKey k = new MasterKey(derive(secret, salt, MEMORY_KIB, ITERATIONS));
        Properties p = new Properties();
        p.setProperty("kdf", "argon2id");
        p.setProperty("memory-kib", Integer.toString(MEMORY_KIB));
        p.setProperty("iterations", Integer.toString(ITERATIONS));
        p.setProperty("salt", Base64.getEncoder().encodeToString(salt));
        p.setProperty("check", Base64.getEncoder().encodeToString(k.check()));
        Files2.writePrivate(params, Files2.properties(p));
        return k;
    }

    /**
     * Derives the master key recorded in {@code dir} from {@code secret}.
     *
     * @throws CredentialsException when the parameters are missing or damaged, or the secret is not this key's
     */
    public static MasterKey open(Path dir, byte[] secret) {
        Path params = dir.resolve(PARAMS_FILE);
        Properties p = Files2.readProperties(params);
        try {
            if (!"argon2id".equals(p.getProperty("kdf"))) {
                throw new CredentialsException(params + ": unknown kdf '" + p.getProperty("kdf") + "'");
            }
            int memory = Integer.parseInt(p.getProperty("memory-kib"));
            int iterations = Integer.parseInt(p.getProperty("iterations"));
            if (memory < 8 * 1024 || memory > 4 * 1024 * 1024 || iterations < 1 || iterations > 100) {
                throw new CredentialsException(params + ": Argon2 parameters out of range (memory " + memory
                        + " KiB, " + iterations + " passes)");
            }
            byte[] salt = Base64.getDecoder().decode(p.getProperty("salt"));
            byte[] check = Base64.getDecoder().decode(p.getProperty("check"));
            MasterKey k = new MasterKey(derive(secret, salt, memory, iterations));
            if (!MessageDigest.isEqual(k.check(), check)) {
                throw new CredentialsException("the master key file or passphrase is not the one these credentials ("
                        + dir + ") were made with, or " + params + " was altered");
            }
            return k;
        } catch (NullPointerException | IllegalArgumentException e) {
            throw new CredentialsException(params + " is damaged: " + e.getMessage(), e);
        }
    }

    /** Encrypts {@code plain} for {@code purpose} (e.g. "ca-key"); only {@link #open} with the same purpose reads it. */
    public byte[] seal(String purpose, byte[] plain) {
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = c.doFinal(plain);
            return ByteBuffer.allocate(MAGIC.length + NONCE + sealed.length).put(MAGIC).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new CredentialsException("cannot encrypt " + purpose + ": " + e, e);
        }
    }

    /**
     * Decrypts what {@link #seal} made for {@code purpose}.
     *
     * @throws CredentialsException when the data was altered, truncated or sealed for another purpose or key
     */
    public byte[] open(String purpose, byte[] sealed, String what) {
        if (sealed.length < MAGIC.length + NONCE + TAG_BITS / 8
                || !Arrays.equals(Arrays.copyOf(sealed, MAGIC.length), MAGIC)) {
            throw new CredentialsException(what + " is not a sealed Smalti file (truncated or replaced)");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, MAGIC.length, NONCE));
            c.updateAAD(purpose.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(sealed, MAGIC.length + NONCE, sealed.length - MAGIC.length - NONCE);
        } catch (AEADBadTagException e) {
            throw new CredentialsException(what + " was altered (its authentication tag does not match): refusing it");
        } catch (GeneralSecurityException e) {
            throw new CredentialsException("cannot decrypt " + what + ": " + e, e);
        }
    }

    /** A key for HMACs derived from this one (e.g. to index secrets without storing their names' plain hash). */
    public byte[] subkey(String purpose) {
        return hmac(purpose.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] check() {
        return hmac("smalti master key check".getBytes(StandardCharsets.UTF_8));
    }

    private byte[] hmac(byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] derive(byte[] secret, byte[] salt, int memoryKib, int iterations) {
        Argon2BytesGenerator gen = new Argon2BytesGenerator();
        gen.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id).withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt).withMemoryAsKB(memoryKib).withIterations(iterations).withParallelism(1).build());
        byte[] out = new byte[32];
        gen.generateBytes(secret, out);
        return out;
    }
}
