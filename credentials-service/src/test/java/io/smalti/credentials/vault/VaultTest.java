package io.smalti.credentials.vault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smalti.credentials.CredentialsException;
import io.smalti.credentials.MasterKey;
import io.smalti.credentials.ca.Pem;
import io.smalti.protocol.credentials.CredentialInfo;
import io.smalti.protocol.credentials.CredentialKind;
import io.smalti.protocol.credentials.HmacAlgorithm;
import io.smalti.protocol.credentials.VaultOperation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaultTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;
    private MasterKey master;

    @BeforeEach
    void master() {
        master = MasterKey.create(dir, "correct horse battery staple".getBytes(StandardCharsets.US_ASCII));
    }

    /** RFC 4231 §4: test cases 1, 2, 3, 4, 6 and 7 (case 5 is a truncated MAC), HMAC-SHA256 and HMAC-SHA512. */
    @Test
    void hmacsMatchTheTestVectorsOfRfc4231() {
        Object[][] cases = {
                {repeat(0x0b, 20), ascii("Hi There"),
                        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
                                + "be9d914eeb61f1702e696c203a126854"},
                {ascii("Jefe"), ascii("what do ya want for nothing?"),
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
                                + "caeab1a34d4a6b4b636e070a38bce737"},
                {repeat(0xaa, 20), repeat(0xdd, 50),
                        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
                        "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807"
                                + "b946a337bee8942674278859e13292fb"},
                {HEX.parseHex("0102030405060708090a0b0c0d0e0f10111213141516171819"), repeat(0xcd, 50),
                        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
                        "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063"
                                + "a5f19741120c4f2de2adebeb10a298dd"},
                {repeat(0xaa, 131), ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
                        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
                                + "95e64f73f63f0aec8b915a985d786598"},
                {repeat(0xaa, 131), ascii("This is a test using a larger than block-size key and a larger than block-size"
                        + " data. The key needs to be hashed before being used by the HMAC algorithm."),
                        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
                        "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15"
                                + "134676fb6de0446065c97440fa8c6a58"},
        };
        Vault v = Vault.open(dir, master, CLOCK);
        for (int i = 0; i < cases.length; i++) {
            v.put("rfc4231/" + i, CredentialKind.HMAC_KEY, "", (byte[]) cases[i][0], false, false);
        }
        for (int round = 0; round < 2; round++) { // the second time through a MAC the vault keeps
            for (int i = 0; i < cases.length; i++) {
                byte[] data = (byte[]) cases[i][1];
                assertEquals(cases[i][2], HEX.formatHex(v.hmac("rfc4231/" + i, HmacAlgorithm.HMAC_SHA256, data)), "case " + i);
                assertEquals(cases[i][3], HEX.formatHex(v.hmac("rfc4231/" + i, HmacAlgorithm.HMAC_SHA512, data)), "case " + i);
            }
        }
    }

    @Test
    void signaturesOfGeneratedAndImportedKeysVerifyWithTheirPublicKeys() throws Exception {
        Vault v = Vault.open(dir, master, CLOCK);
        byte[] data = ascii("payload to sign");
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        var imported = ec.generateKeyPair();
        v.put("imported/ec", CredentialKind.ECDSA_P256_KEY, "", ascii(Pem.privateKey(imported.getPrivate())), false, false);
        var importedEd = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        v.put("imported/ed", CredentialKind.ED25519_KEY, "", importedEd.getPrivate().getEncoded(), false, false); // DER
        for (CredentialKind kind : List.of(CredentialKind.ED25519_KEY, CredentialKind.ECDSA_P256_KEY, CredentialKind.RSA_KEY)) {
            CredentialInfo info = v.put("gen/" + kind, kind, "", null, true, false);
            assertFalse(info.getPublicKey().isEmpty(), kind + " has a public key");
        }
        for (String name : List.of("imported/ec", "imported/ed", "gen/ED25519_KEY", "gen/ECDSA_P256_KEY", "gen/RSA_KEY")) {
            Vault.Signed s = v.sign(name, data);
            CredentialInfo info = v.info(name);
            assertArrayEquals(info.getPublicKey().toByteArray(), s.publicKey());
            PublicKey pub = KeyFactory.getInstance(name.contains("ED") || name.endsWith("ed") ? "Ed25519"
                    : name.contains("RSA") ? "RSA" : "EC").generatePublic(new X509EncodedKeySpec(s.publicKey()));
            Signature verify = Signature.getInstance(s.algorithm());
            verify.initVerify(pub);
            verify.update(data);
            assertTrue(verify.verify(s.signature()), name + " verifies");
            verify.initVerify(pub);
            verify.update(ascii("other data"));
            assertFalse(verify.verify(s.signature()), name + " signed that data only");
        }
        assertArrayEquals(imported.getPublic().getEncoded(), v.info("imported/ec").getPublicKey().toByteArray());
        assertArrayEquals(importedEd.getPublic().getEncoded(), v.info("imported/ed").getPublicKey().toByteArray());
        assertEquals(Set.of("SHA256withECDSA", "Ed25519", "SHA256withRSA"), Set.of(v.sign("imported/ec", data).algorithm(),
                v.sign("imported/ed", data).algorithm(), v.sign("gen/RSA_KEY", data).algorithm()));
    }

    @Test
    void badCredentialsAreRefusedSayingWhatIsWrong() throws Exception {
        Vault v = Vault.open(dir, master, CLOCK);
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        assertRefused("at least 2048", () -> v.put("k", CredentialKind.RSA_KEY, "",
                ascii(Pem.privateKey(rsa.generateKeyPair().getPrivate())), false, false));
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp384r1"));
        assertRefused("P-256 is needed", () -> v.put("k", CredentialKind.ECDSA_P256_KEY, "",
                ascii(Pem.privateKey(ec.generateKeyPair().getPrivate())), false, false));
        assertRefused("not a ED25519_KEY", () -> v.put("k", CredentialKind.ED25519_KEY, "",
                ascii(Pem.privateKey(ec.generateKeyPair().getPrivate())), false, false));
        assertRefused("neither PEM nor PKCS#8", () -> v.put("k", CredentialKind.ED25519_KEY, "", ascii("garbage"), false, false));
        assertRefused("access key id", () -> v.put("k", CredentialKind.AWS_ACCESS_KEY, "", ascii("secret"), false, false));
        assertRefused("without ':'", () -> v.put("k", CredentialKind.BASIC, "a:b", ascii("pw"), false, false));
        assertRefused("cannot be generated", () -> v.put("k", CredentialKind.BEARER, "", null, true, false));
        assertRefused("credential name", () -> v.put("bad name", CredentialKind.BEARER, "", ascii("t"), false, false));
        v.put("t", CredentialKind.BEARER, "", ascii("token-1"), false, false);
        assertRefused("exists", () -> v.put("t", CredentialKind.BEARER, "", ascii("token-2"), false, false));
        assertRefused("is a BEARER, not a HMAC_KEY", () -> v.hmac("t", HmacAlgorithm.HMAC_SHA256, new byte[1]));
        assertRefused("not a private key", () -> v.sign("t", new byte[1]));
        CredentialsException missing = assertThrows(Vault.NotFound.class, () -> v.hmac("nope", HmacAlgorithm.HMAC_SHA256, new byte[1]));
        assertTrue(missing.getMessage().contains("no credential named 'nope'"));
        assertEquals("Bearer token-1", v.authorization("t"));
        v.put("t", CredentialKind.BEARER, "", ascii("token-2"), false, true);
        assertEquals("Bearer token-2", v.authorization("t"));
    }

    @Test
    void aRestartKeepsCredentialsAndThePolicy() throws Exception {
        Vault v = Vault.open(dir, master, CLOCK);
        v.put("mac", CredentialKind.HMAC_KEY, "", null, true, false);
        v.put("ed", CredentialKind.ED25519_KEY, "", null, true, false);
        v.put("aws", CredentialKind.AWS_ACCESS_KEY, "AKIDEXAMPLE", ascii("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), false, false);
        v.put("web", CredentialKind.BASIC, "Aladdin", ascii("open sesame"), false, false);
        v.put("gone", CredentialKind.BEARER, "", ascii("abc"), false, false);
        assertTrue(v.delete("gone"));
        assertFalse(v.delete("gone"));
        Policy p = new Policy(List.of(new Rule(new Rule.OfType("billing"), Set.of(VaultOperation.HMAC), "mac")));
        v.setPolicy(p);
        byte[] mac = v.hmac("mac", HmacAlgorithm.HMAC_SHA256, ascii("x"));
        SigV4.Request request = new SigV4.Request("GET", "example.amazonaws.com", "/", List.of(), List.of(),
                SigV4.EMPTY_SHA256, "us-east-1", "service", Instant.parse("2015-08-30T12:36:00Z"), true, false);

        Vault again = Vault.open(dir, MasterKey.open(dir, "correct horse battery staple".getBytes(StandardCharsets.US_ASCII)), CLOCK);
        assertEquals(v.list(""), again.list(""));
        assertEquals(List.of("aws", "ed", "mac", "web"), again.list("").stream().map(CredentialInfo::getName).toList());
        assertArrayEquals(mac, again.hmac("mac", HmacAlgorithm.HMAC_SHA256, ascii("x")));
        assertEquals(p, again.policy());
        assertEquals("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", again.authorization("web")); // RFC 7617's example
        // get-vanilla of AWS's suite, signed with the key kept across the restart.
        assertTrue(again.awsSign("aws", request).authorization().endsWith(
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(Vault.FILE))));
    }

    @Test
    void aTamperedVaultFileOrAnotherMasterKeyRefusesToOpenSayingSo() throws Exception {
        Vault v = Vault.open(dir, master, CLOCK);
        v.put("mac", CredentialKind.HMAC_KEY, "", null, true, false);
        Path file = dir.resolve(Vault.FILE);
        byte[] sealed = Files.readAllBytes(file);
        for (int at : new int[] {sealed.length - 1, sealed.length / 2, 20}) {
            byte[] tampered = sealed.clone();
            tampered[at] ^= 0x40;
            Files.write(file, tampered);
            CredentialsException e = assertThrows(CredentialsException.class, () -> Vault.open(dir, master, CLOCK));
            assertTrue(e.getMessage().contains("the vault " + file) && e.getMessage().contains("was altered"), e.getMessage());
        }
        Files.write(file, java.util.Arrays.copyOf(sealed, 10));
        assertTrue(assertThrows(CredentialsException.class, () -> Vault.open(dir, master, CLOCK)).getMessage()
                .contains("truncated or replaced"));
        Files.write(file, sealed);
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        MasterKey another = MasterKey.create(other, "another cluster's passphrase".getBytes(StandardCharsets.US_ASCII));
        CredentialsException wrong = assertThrows(CredentialsException.class, () -> Vault.open(dir, another, CLOCK));
        assertTrue(wrong.getMessage().contains("the vault " + file), wrong.getMessage());
        assertThrows(CredentialsException.class, () -> MasterKey.open(dir, "not the passphrase at all".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(1, Vault.open(dir, master, CLOCK).list("").size());
    }

    @Test
    void noSecretPutIntoTheVaultIsInPlainTextInAnyFileOfTheCredentialsDirectory() throws Exception {
        Vault v = Vault.open(dir, master, CLOCK);
        byte[] hmacKey = ascii("hmac-key-MARKER-0123456789abcdef");
        String awsSecret = "aws-secret-MARKER-wJalrXUtnFEMI/K7MDENG";
        String password = "password-MARKER-open-sesame";
        String token = "bearer-MARKER-token-0123456789";
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        var key = ec.generateKeyPair();
        v.put("mac", CredentialKind.HMAC_KEY, "", hmacKey, false, false);
        v.put("aws", CredentialKind.AWS_ACCESS_KEY, "AKIDEXAMPLE", ascii(awsSecret), false, false);
        v.put("web", CredentialKind.BASIC, "Aladdin", ascii(password), false, false);
        v.put("api", CredentialKind.BEARER, "", ascii(token), false, false);
        v.put("ec", CredentialKind.ECDSA_P256_KEY, "", ascii(Pem.privateKey(key.getPrivate())), false, false);
        v.put("gen", CredentialKind.HMAC_KEY, "", null, true, false);
        try (Audit audit = new Audit(dir, 1 << 20)) {
            // What the service would write while using them.
            v.hmac("mac", HmacAlgorithm.HMAC_SHA256, ascii("data"));
            audit.record(io.smalti.protocol.credentials.AuditEvent.newBuilder().setOperation(VaultOperation.HMAC)
                    .setCredential("mac").setInputLength(4).setInputSha256(Audit.hash(ascii("data"))).build());
        }
        List<byte[]> secrets = List.of(hmacKey, ascii(awsSecret), ascii(password), ascii(token), ascii("MARKER"),
                key.getPrivate().getEncoded(), ascii(Base64.getEncoder().encodeToString(ascii("Aladdin:" + password))),
                ascii(HEX.formatHex(hmacKey)));
        int files = 0;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path f : all.filter(Files::isRegularFile).toList()) {
                files++;
                byte[] bytes = Files.readAllBytes(f);
                for (byte[] s : secrets) {
                    assertFalse(contains(bytes, s), f + " holds a secret in plain text");
                }
            }
        }
        assertTrue(files >= 3, "master.params, vault.sealed and audit.log were scanned, not " + files);
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static void assertRefused(String expected, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(expected), "expected '" + expected + "' in: " + x.getMessage());
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] repeat(int b, int n) {
        byte[] out = new byte[n];
        java.util.Arrays.fill(out, (byte) b);
        return out;
    }
}
