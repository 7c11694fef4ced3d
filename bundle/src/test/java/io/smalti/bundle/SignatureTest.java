package io.smalti.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignatureTest {
    @TempDir
    Path temp;

    private final byte[] archive = Tars.withManifest().file("a", "a").bytes();

    @Test
    void signedArchiveVerifies() {
        DeveloperKey key = DeveloperKey.generate("dev@test");
        BundleSignature sig = BundleSignature.sign(archive, key);
        assertEquals(BundleArchive.digest(archive), sig.digest());
        assertEquals(key.publicKey().id(), sig.key());
        assertEquals("Ed25519", sig.algorithm());
        BundleSignature parsed = BundleSignature.parse(sig.toJson());
        assertEquals(sig, parsed);
        BundleSignature.verify(archive, parsed, List.of(DeveloperKey.generate().publicKey(), key.publicKey()));
    }

    @Test
    void tamperedArchiveWrongKeyAndUnknownKeyAreRefused() {
        DeveloperKey key = DeveloperKey.generate();
        BundleSignature sig = BundleSignature.sign(archive, key);
        byte[] tampered = archive.clone();
        tampered[tampered.length - 9] ^= 1;
        BundleException e = assertThrows(BundleException.class,
                () -> BundleSignature.verify(tampered, sig, List.of(key.publicKey())));
        assertEquals("digest mismatch: the signature is for " + sig.digest() + ", the archive is "
                + BundleArchive.digest(tampered), e.getMessage());

        TrustedKey other = DeveloperKey.generate().publicKey();
        e = assertThrows(BundleException.class, () -> BundleSignature.verify(archive, sig, List.of(other)));
        assertEquals("unknown key id " + key.publicKey().id() + ": not one of the 1 trusted keys", e.getMessage());

        // A signature by another key that claims to be by the trusted one.
        BundleSignature forged = new BundleSignature(sig.digest(), key.publicKey().id(), "Ed25519",
                BundleSignature.sign(archive, DeveloperKey.generate()).signature());
        e = assertThrows(BundleException.class, () -> BundleSignature.verify(archive, forged, List.of(key.publicKey())));
        assertEquals("bad signature: not a signature of " + sig.digest() + " by key " + key.publicKey().id(),
                e.getMessage());
    }

    @Test
    void keysSaveAndLoad() throws Exception {
        DeveloperKey key = DeveloperKey.generate("dev@test");
        Path file = temp.resolve("keys/developer.key");
        key.save(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        Path pub = temp.resolve("keys/developer.key.pub");
        String line = Files.readString(pub).strip();
        assertTrue(line.matches("smalti-ed25519 [A-Za-z0-9+/]{43}= dev@test"), line);

        DeveloperKey loaded = DeveloperKey.load(file);
        assertEquals(key.publicKey(), loaded.publicKey());
        TrustedKey trusted = TrustedKey.load(pub);
        assertEquals(key.publicKey(), trusted);
        assertEquals(key.publicKey().id(), trusted.id());
        assertTrue(trusted.id().matches("[0-9a-f]{16}"));
        BundleSignature.verify(archive, BundleSignature.sign(archive, loaded), List.of(trusted));

        BundleException e = assertThrows(BundleException.class, () -> key.save(file));
        assertEquals(file + ": exists; not overwriting a key", e.getMessage());
        assertEquals(key.publicKey(), DeveloperKey.loadOrCreate(file).publicKey());
        DeveloperKey created = DeveloperKey.loadOrCreate(temp.resolve("new.key"));
        assertEquals(created.publicKey(), TrustedKey.load(temp.resolve("new.key.pub")));
    }

    @Test
    void malformedSignaturesNameTheField() {
        BundleException e = assertThrows(BundleException.class,
                () -> BundleSignature.parse("{\"digest\":\"ab\"}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("signature: digest: must be 64 lowercase hex digits", e.getMessage());
        String ok = new String(BundleSignature.sign(archive, DeveloperKey.generate()).toJson(), StandardCharsets.UTF_8);
        e = assertThrows(BundleException.class, () -> BundleSignature.parse(
                ok.replace("\"algorithm\"", "\"extra\": 1, \"algorithm\"").getBytes(StandardCharsets.UTF_8)));
        assertEquals("signature: extra: unknown field", e.getMessage());
        e = assertThrows(BundleException.class, () -> TrustedKey.parse("ssh-ed25519 AAAA x"));
        assertTrue(e.getMessage().startsWith("public key: must be one line 'smalti-ed25519"), e.getMessage());
    }
}
