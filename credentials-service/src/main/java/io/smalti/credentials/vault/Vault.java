package io.smalti.credentials.vault;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.Files2;
import io.smalti.credentials.MasterKey;
import io.smalti.protocol.credentials.CredentialInfo;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.PolicyRule;
import io.smalti.protocol.credentials.StoredCredential;
import io.smalti.protocol.credentials.VaultFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The credentials a node's components and operators use without ever holding them (thesis §4.8, factotum-like):
 * each has a name, a kind, a shareable part that may be shown (an access key id, a user name, a public key) and a
 * confidential part that is written and never read back; callers ask for an operation on it instead (an HMAC, a
 * signature, an AWS SigV4 Authorization header, a Basic or Bearer header).
 *
 * <p>At rest: one file, {@value #FILE}, sealed as a whole under the {@link MasterKey} (so any change to it, or an
 * entry dropped, keeps it from opening), each confidential part sealed again with a purpose naming its credential
 * (so one entry's secret cannot be moved under another name). Every change rewrites the file atomically; a vault
 * holds at most {@value #MAX_CREDENTIALS} credentials, so that stays cheap.
 *
 * <p>Decides nothing about who may ask: {@link Policy} does, the caller checks it first. Not thread-safe: its one
 * owner is the credentials service's request thread.
 */
public final class Vault {
    public static final String FILE = "vault.sealed";
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._/@:-]{1,128}");
    static final int MAX_CREDENTIALS = 10_000;
    /** Large enough for an RSA 8192 private key in PEM. */
    static final int MAX_CONFIDENTIAL = 16 * 1024;
    private static final String FILE_PURPOSE = "smalti vault";
    private static final String SECRET_PURPOSE = "smalti vault secret ";
    private static final Pattern TOKEN68 = Pattern.compile("[A-Za-z0-9._~+/-]+=*");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** No credential of that name. */
    public static final class NotFound extends CredentialsException {
        NotFound(String name) {
            super("no credential named '" + name + "'");
        }
    }

    /** A signature and what verifies it. */
    public record Signed(byte[] signature, String algorithm, byte[] publicKey) {
    }

    /** A credential as kept in memory: what may be shown, the sealed form to write back, the usable secret. */
    private static final class Entry {
        final CredentialInfo info;
        final ByteString sealed;
        final byte[] confidential;
        PrivateKey privateKey;
        Mac sha256;
        Mac sha512;

        Entry(CredentialInfo info, ByteString sealed, byte[] confidential) {
            this.info = info;
            this.sealed = sealed;
            this.confidential = confidential;
        }
    }

    private final Path file;
    private final MasterKey master;
    private final Clock clock;
    private final Map<String, Entry> entries = new TreeMap<>();
    private Policy policy = Policy.DENY_ALL;

    private Vault(Path file, MasterKey master, Clock clock) {
        this.file = file;
        this.master = master;
        this.clock = clock;
    }

    /**
     * Opens the vault in {@code dir} (an empty one if it has none yet).
     *
     * @throws CredentialsException when the file was altered, truncated, or sealed under another master key
     */
    public static Vault open(Path dir, MasterKey master, Clock clock) {
        Vault v = new Vault(dir.resolve(FILE), master, clock);
        if (!Files.exists(v.file)) {
            return v;
        }
        String what = "the vault " + v.file;
        byte[] plain = master.open(FILE_PURPOSE, Files2.read(v.file, "the vault"), what);
        VaultFile stored;
        try {
            stored = VaultFile.parseFrom(plain);
        } catch (InvalidProtocolBufferException e) {
            throw new CredentialsException(what + " is damaged: " + e.getMessage(), e);
        }
        for (StoredCredential c : stored.getCredentialsList()) {
            String name = c.getInfo().getName();
            byte[] confidential = master.open(SECRET_PURPOSE + name, c.getSealed().toByteArray(),
                    "the secret of credential '" + name + "' in " + v.file);
            v.entries.put(name, new Entry(c.getInfo(), c.getSealed(), confidential));
        }
        List<Rule> rules = new ArrayList<>();
        try {
            stored.getRulesList().forEach(r -> rules.add(Rule.of(r)));
        } catch (IllegalArgumentException e) {
            throw new CredentialsException(what + " holds a bad policy rule: " + e.getMessage(), e);
        }
        v.policy = new Policy(rules);
        return v;
    }

    public Policy policy() {
        return policy;
    }

    /** Replaces the policy, and keeps it. */
    public void setPolicy(Policy p) {
        Policy before = policy;
        policy = p;
        try {
            save();
        } catch (CredentialsException e) {
            policy = before;
            throw e;
        }
    }

    /**
     * Stores a credential.
     *
     * @param shareable    the AWS access key id or Basic user name; must be empty for other kinds (a key's public
     *                     part is derived)
     * @param confidential the secret (see {@link CredentialKind}); empty when {@code generate}
     * @throws IllegalArgumentException saying what is wrong with the credential, or that the name is taken
     */
    public CredentialInfo put(String name, CredentialKind kind, String shareable, byte[] confidential, boolean generate,
            boolean replace) {
        checkName(name);
        if (!replace && entries.containsKey(name)) {
            throw new IllegalArgumentException("a credential named '" + name + "' exists: replace it, or delete it first");
        }
        if (!replace && entries.size() >= MAX_CREDENTIALS) {
            throw new IllegalArgumentException("the vault holds " + MAX_CREDENTIALS + " credentials, its most");
        }
        shareable = shareable == null ? "" : shareable;
        confidential = confidential == null ? new byte[0] : confidential;
        if (generate && confidential.length > 0) {
            throw new IllegalArgumentException("a generated credential takes no confidential part");
        }
        if (confidential.length > MAX_CONFIDENTIAL) {
            throw new IllegalArgumentException("a confidential part is at most " + MAX_CONFIDENTIAL + " bytes, not "
                    + confidential.length);
        }
        CredentialInfo.Builder info = CredentialInfo.newBuilder().setName(name).setKind(kind)
                .setCreatedMs(clock.millis());
        byte[] secret;
        switch (kind) {
            case HMAC_KEY -> {
                noShareable(kind, shareable);
                if (generate) {
                    secret = new byte[32];
                    RANDOM.nextBytes(secret);
                } else if (confidential.length == 0) {
                    throw new IllegalArgumentException("an hmac key needs its key bytes (or generate one)");
                } else {
                    secret = confidential.clone();
                }
            }
            case AWS_ACCESS_KEY -> {
                notGenerated(kind, generate);
                if (!shareable.matches("[A-Z0-9]{4,128}")) {
                    throw new IllegalArgumentException("an AWS access key needs its access key id (upper-case letters "
                            + "and digits) as its shareable part, not '" + shareable + "'");
                }
                secret = utf8Secret(kind, confidential, "its secret access key");
                info.setShareable(shareable);
            }
            case BASIC -> {
                notGenerated(kind, generate);
                if (shareable.isEmpty() || shareable.contains(":") || shareable.chars().anyMatch(c -> c < ' ')) {
                    throw new IllegalArgumentException("a basic credential needs a user name without ':' or control "
                            + "characters as its shareable part, not '" + shareable + "'");
                }
                secret = utf8Secret(kind, confidential, "its password");
                info.setShareable(shareable);
            }
            case BEARER -> {
                notGenerated(kind, generate);
                noShareable(kind, shareable);
                secret = utf8Secret(kind, confidential, "its token");
                if (!TOKEN68.matcher(new String(secret, StandardCharsets.UTF_8)).matches()) {
                    throw new IllegalArgumentException("a bearer token must be letters, digits or - . _ ~ + / (RFC 6750)");
                }
            }
            case ED25519_KEY, ECDSA_P256_KEY, RSA_KEY -> {
                noShareable(kind, shareable);
                if (!generate && confidential.length == 0) {
                    throw new IllegalArgumentException("a " + kind + " needs its private key (PEM), or generate one");
                }
                secret = generate ? Keys.generate(kind) : Keys.normalise(kind, confidential);
                info.setPublicKey(ByteString.copyFrom(Keys.publicKey(kind, secret).getEncoded()));
            }
            default -> throw new IllegalArgumentException("unknown credential kind " + kind);
        }
        Entry e = new Entry(info.build(), ByteString.copyFrom(master.seal(SECRET_PURPOSE + name, secret)), secret);
        Entry before = entries.put(name, e);
        try {
            save();
        } catch (CredentialsException x) {
            restore(name, before);
            throw x;
        }
        return e.info;
    }

    /** The credentials whose names start with {@code prefix}, by name. */
    public List<CredentialInfo> list(String prefix) {
        List<CredentialInfo> out = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.info.getName().startsWith(prefix == null ? "" : prefix)) {
                out.add(e.info);
            }
        }
        return out;
    }

    /** Deletes a credential; whether it existed. */
    public boolean delete(String name) {
        Entry before = entries.remove(name);
        if (before == null) {
            return false;
        }
        try {
            save();
        } catch (CredentialsException x) {
            restore(name, before);
            throw x;
        }
        return true;
    }

    /** What may be shown of a credential. */
    public CredentialInfo info(String name) {
        return entry(name).info;
    }

    /** The HMAC of {@code data} under an HMAC_KEY credential. */
    public byte[] hmac(String name, HmacAlgorithm algorithm, byte[] data) {
        Entry e = entry(name, CredentialKind.HMAC_KEY);
        Mac mac = switch (algorithm) {
            case HMAC_SHA256 -> e.sha256 == null ? e.sha256 = mac("HmacSHA256", e.confidential) : e.sha256;
            case HMAC_SHA512 -> e.sha512 == null ? e.sha512 = mac("HmacSHA512", e.confidential) : e.sha512;
            default -> throw new IllegalArgumentException("HMAC algorithm must be HMAC_SHA256 or HMAC_SHA512, not " + algorithm);
        };
        return mac.doFinal(data);
    }

    /** A signature of {@code data} with a key credential. */
    public Signed sign(String name, byte[] data) {
        Entry e = entry(name);
        CredentialKind kind = e.info.getKind();
        if (!Keys.isKey(kind)) {
            throw new IllegalArgumentException("credential '" + name + "' is a " + kind + ", not a private key");
        }
        if (e.privateKey == null) {
            e.privateKey = Keys.privateKey(kind, e.confidential);
        }
        try {
            Signature s = Signature.getInstance(Keys.signatureAlgorithm(kind));
            s.initSign(e.privateKey);
            s.update(data);
            return new Signed(s.sign(), Keys.signatureAlgorithm(kind), e.info.getPublicKey().toByteArray());
        } catch (GeneralSecurityException x) {
            throw new CredentialsException("cannot sign with '" + name + "': " + x, x);
        }
    }

    /** The AWS SigV4 signature of a described request with an AWS_ACCESS_KEY credential. */
    public SigV4.Signed awsSign(String name, SigV4.Request request) {
        Entry e = entry(name, CredentialKind.AWS_ACCESS_KEY);
        return SigV4.sign(e.info.getShareable(), e.confidential, request);
    }

    /** The Authorization header of a BASIC or BEARER credential (which the header gives out, as it must). */
    public String authorization(String name) {
        Entry e = entry(name);
        return switch (e.info.getKind()) {
            case BASIC -> "Basic " + Base64.getEncoder().encodeToString(
                    (e.info.getShareable() + ":" + new String(e.confidential, StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8));
            case BEARER -> "Bearer " + new String(e.confidential, StandardCharsets.US_ASCII);
            default -> throw new IllegalArgumentException("credential '" + name + "' is a " + e.info.getKind()
                    + ", not a basic or bearer credential");
        };
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new NotFound(name);
        }
        return e;
    }

    private Entry entry(String name, CredentialKind kind) {
        Entry e = entry(name);
        if (e.info.getKind() != kind) {
            throw new IllegalArgumentException("credential '" + name + "' is a " + e.info.getKind() + ", not a " + kind);
        }
        return e;
    }

    private void restore(String name, Entry before) {
        if (before == null) {
            entries.remove(name);
        } else {
            entries.put(name, before);
        }
    }

    private void save() {
        VaultFile.Builder b = VaultFile.newBuilder();
        for (Entry e : entries.values()) {
            b.addCredentials(StoredCredential.newBuilder().setInfo(e.info).setSealed(e.sealed));
        }
        for (Rule r : policy.rules()) {
            PolicyRule p = r.proto();
            b.addRules(p);
        }
        Files2.writePrivate(file, master.seal(FILE_PURPOSE, b.build().toByteArray()));
    }

    static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a credential name is 1..128 letters, digits or . _ / @ : -, not '"
                    + name + "'");
        }
    }

    private static void noShareable(CredentialKind kind, String shareable) {
        if (!shareable.isEmpty()) {
            throw new IllegalArgumentException("a " + kind + " has no shareable part to give");
        }
    }

    private static void notGenerated(CredentialKind kind, boolean generate) {
        if (generate) {
            throw new IllegalArgumentException("a " + kind + " cannot be generated: it is issued elsewhere");
        }
    }

    private static byte[] utf8Secret(CredentialKind kind, byte[] confidential, String what) {
        if (confidential.length == 0) {
            throw new IllegalArgumentException("a " + kind + " needs " + what + " as its confidential part");
        }
        String s = new String(confidential, StandardCharsets.UTF_8);
        if (!java.util.Arrays.equals(s.getBytes(StandardCharsets.UTF_8), confidential)) {
            throw new IllegalArgumentException(what + " is not UTF-8");
        }
        return confidential.clone();
    }

    private static Mac mac(String algorithm, byte[] key) {
        try {
            Mac m = Mac.getInstance(algorithm);
            m.init(new SecretKeySpec(key, algorithm));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
