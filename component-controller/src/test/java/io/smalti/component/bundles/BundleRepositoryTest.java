package io.smalti.component.bundles;

import static io.smalti.component.testing.Futures.failure;
import static io.smalti.component.testing.Futures.get;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.smalti.bundle.BundleArchive;
import io.smalti.bundle.BundleException;
import io.smalti.bundle.DeveloperKey;
import io.smalti.bundle.Limits;
import io.smalti.bundle.Manifest;
import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.component.testing.ComponentRing;
import io.smalti.component.testing.TestBundles;
import io.smalti.component.testing.TestBundles.Signed;
import io.smalti.protocol.component.BundleMeta;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The bundle repository on a one-node ring: what it stores, what it refuses, and fetching into an empty cache. */
@ExtendWith(ComponentRing.Extension.class)
class BundleRepositoryTest {
    private static ComponentRing ring;
    private static ComponentRecords records;
    private static ExecutorService blocking;
    private static DeveloperKey key;
    private static Path base;
    private static Path trusted;
    private static BundleRepository repo;

    @BeforeAll
    static void start(ComponentRing r) throws IOException {
        ring = r;
        records = r.records();
        blocking = Executors.newFixedThreadPool(2);
        key = DeveloperKey.generate("tests");
        base = r.newDir("bundle-repository");
        trusted = base.resolve("trusted");
        TestBundles.trust(trusted, "tests", key);
        repo = repository("cache");
    }

    @AfterAll
    static void stop() {
        blocking.shutdownNow();
    }

    /** A repository on the same ring with its own (new, empty) cache directory under {@link #base}. */
    private static BundleRepository repository(String cache) {
        return new BundleRepository(records, base.resolve(cache), List.of(trusted), Limits.DEFAULTS, blocking);
    }

    private static Signed simple(String name) throws IOException {
        return TestBundles.simple(base, key, name, "64M");
    }

    private static Optional<BundleMeta> stored(String digest) {
        return get(records.get(ComponentKeys.bundle(digest), BundleMeta.parser()));
    }

    private static List<String> listedDigests() {
        return get(repo.list()).stream().map(BundleMeta::getDigest).toList();
    }

    @Test
    void storesASignedBundleAndListsIt() throws IOException {
        String name = ComponentRing.newName("store");
        Signed b = simple(name);
        long before = System.currentTimeMillis();
        BundleRepository.Stored s = get(repo.store(b.archive(), b.signature()));
        assertTrue(s.created());
        BundleMeta m = s.meta();
        assertEquals(b.digest(), m.getDigest());
        assertEquals(BundleArchive.digest(b.archive()), m.getDigest());
        assertEquals(name, m.getName());
        assertEquals("1.0", m.getVersion());
        assertEquals(b.archive().length, m.getSize());
        assertEquals(key.publicKey().id(), m.getSignedBy());
        assertEquals(1, m.getChunks());
        assertEquals(BundleRepository.CHUNK_SIZE, m.getChunkSize());
        assertTrue(m.getStoredAtMillis() >= before, "stored just now");
        assertEquals(ByteString.copyFrom(b.signature()), m.getSignature());
        Manifest manifest = BundleRepository.manifest(m);
        assertEquals(name, manifest.name());
        assertEquals(64L << 20, manifest.resources().memoryBytes());

        assertEquals(Optional.of(m), get(repo.meta(b.digest())));
        assertTrue(listedDigests().contains(b.digest()), "listed");
        assertEquals(Optional.of(ByteString.copyFrom(b.archive())), get(records.getBytes(ComponentKeys.chunk(b.digest(), 0))));
        try (Stream<Path> left = Files.list(base.resolve("cache"))) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".verify-")).toList(),
                    "the verification's scratch directory is gone");
        }
    }

    @Test
    void storingTheSameBundleAgainIsIdempotent() throws IOException {
        Signed b = simple(ComponentRing.newName("again"));
        BundleRepository.Stored first = get(repo.store(b.archive(), b.signature()));
        BundleRepository.Stored second = get(repo.store(b.archive(), b.signature()));
        assertTrue(first.created());
        assertFalse(second.created(), "stored before");
        assertEquals(first.meta(), second.meta(), "the first store's metadata, time included");
        assertEquals(1, listedDigests().stream().filter(b.digest()::equals).count());
    }

    @Test
    void refusesABundleSignedByAnUnknownKey() throws IOException {
        DeveloperKey stranger = DeveloperKey.generate("stranger");
        Signed b = TestBundles.simple(base, stranger, ComponentRing.newName("stranger"), "64M");
        BundleException e = failure(BundleException.class, repo.store(b.archive(), b.signature()));
        assertEquals("unknown key id " + stranger.publicKey().id() + ": not one of the 1 trusted keys", e.getMessage());
        assertEquals(Optional.empty(), stored(b.digest()));
        assertFalse(listedDigests().contains(b.digest()));
    }

    @Test
    void trustedKeysAreReadAgainOnEachPush() throws IOException {
        DeveloperKey later = DeveloperKey.generate("later");
        Path dir = base.resolve("trusted-later");
        TestBundles.trust(dir, "first", key);
        BundleRepository r = new BundleRepository(records, base.resolve("cache-later"), List.of(dir), Limits.DEFAULTS, blocking);
        Signed b = TestBundles.simple(base, later, ComponentRing.newName("later"), "64M");
        failure(BundleException.class, r.store(b.archive(), b.signature()));
        TestBundles.trust(dir, "later", later);
        assertEquals(2, r.trustedKeys().size());
        assertTrue(get(r.store(b.archive(), b.signature())).created(), "accepted once its key is trusted");
        assertEquals(later.publicKey().id(), stored(b.digest()).orElseThrow().getSignedBy());
    }

    @Test
    void refusesATamperedArchive() throws IOException {
        Signed b = simple(ComponentRing.newName("tampered"));
        byte[] tampered = b.archive().clone();
        tampered[tampered.length / 2] ^= 1;
        String actual = BundleArchive.digest(tampered);
        BundleException e = failure(BundleException.class, repo.store(tampered, b.signature()));
        assertEquals("digest mismatch: the signature is for " + b.digest() + ", the archive is " + actual, e.getMessage());
        assertEquals(Optional.empty(), stored(b.digest()));
        assertEquals(Optional.empty(), stored(actual));
    }

    @Test
    void refusesEmptyArchivesAndBrokenSignatureFiles() throws IOException {
        Signed b = simple(ComponentRing.newName("broken"));
        assertEquals("the bundle is empty", failure(BundleException.class, repo.store(new byte[0], b.signature())).getMessage());
        BundleException e = failure(BundleException.class, repo.store(b.archive(), "{}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("signature: "), e.getMessage());
        e = failure(BundleException.class, repo.store(b.archive(), "not json".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("signature: "), e.getMessage());
        assertEquals(Optional.empty(), stored(b.digest()));
    }

    @Test
    void refusesAMaliciousArchiveSignedByATrustedKeyWritingNothingOutside() throws IOException {
        Path cache = base.resolve("cache-evil");
        BundleRepository r = new BundleRepository(records, cache, List.of(trusted), Limits.DEFAULTS, blocking);
        String name = ComponentRing.newName("evil");
        byte[] archive = TestBundles.crafted(TestBundles.manifest(name, "1", "64M"), Map.of("../evil", "pwned"));
        Signed b = TestBundles.sign(archive, key); // the signature is fine: only extraction can refuse it
        BundleException e = failure(BundleException.class, r.store(b.archive(), b.signature()));
        assertEquals("entry '../evil': '..' in path", e.getMessage());
        assertEquals(Optional.empty(), stored(b.digest()), "no bundle/<digest> record");
        assertEquals(Optional.empty(), get(records.getBytes(ComponentKeys.chunk(b.digest(), 0))), "no chunk either");
        assertFalse(listedDigests().contains(b.digest()));
        List<Path> evil = new ArrayList<>();
        try (Stream<Path> all = Files.walk(base.getParent())) {
            all.filter(p -> p.getFileName().toString().equals("evil")).forEach(evil::add);
        }
        assertEquals(List.of(), evil, "no file named evil anywhere near the cache");
        try (Stream<Path> left = Files.list(cache)) {
            assertEquals(List.of(), left.toList(), "the cache directory is left empty");
        }
    }

    @Test
    void fetchIntoAnEmptyCacheExtractsTheSameFiles() throws IOException {
        String name = ComponentRing.newName("fetch");
        Signed b = simple(name);
        get(repo.store(b.archive(), b.signature()));
        BundleRepository other = repository("cache-other-" + name); // another node's view of the same ring
        Path root = get(other.fetch(b.digest()));
        assertEquals(base.resolve("cache-other-" + name).resolve(b.digest()), root);
        assertEquals("hello from " + name, Files.readString(root.resolve("app/hello.txt")));
        assertEquals(name, Manifest.parse(Files.readAllBytes(root.resolve("bundle.json"))).name());
        assertEquals(root, get(other.fetch(b.digest())), "a second fetch uses the cache");
        // The cache is owner-only, like the node's data directory; the bundle in it stays readable by containers' ids.
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(root.getParent())));
        assertEquals("rwxr-xr-x", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root)));
    }

    @Test
    void concurrentFetchesOfOneBundleShareTheWork() throws IOException {
        String name = ComponentRing.newName("shared");
        Signed b = simple(name);
        get(repo.store(b.archive(), b.signature()));
        BundleRepository other = repository("cache-shared-" + name);
        List<CompletableFuture<Path>> fetches = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            fetches.add(other.fetch(b.digest()).toCompletableFuture());
        }
        Path root = get(fetches.get(0));
        for (CompletableFuture<Path> f : fetches) {
            assertEquals(root, get(f));
        }
        assertEquals("hello from " + name, Files.readString(root.resolve("app/hello.txt")));
    }

    @Test
    void fetchingAnUnknownDigestFailsClearly() {
        String digest = "0".repeat(64);
        BundleRepository other = repository("cache-unknown");
        BundleException e = failure(BundleException.class, other.fetch(digest));
        assertEquals("no bundle " + digest + " is stored", e.getMessage());
        assertFalse(Files.exists(base.resolve("cache-unknown").resolve(digest)));
        // and again: a failed fetch is not remembered as running
        assertEquals("no bundle " + digest + " is stored", failure(BundleException.class, other.fetch(digest)).getMessage());
    }

    @Test
    void aCorruptedChunkIsDetectedOnFetch() throws IOException {
        String name = ComponentRing.newName("corrupt");
        Signed b = simple(name);
        get(repo.store(b.archive(), b.signature()));
        byte[] bad = b.archive().clone();
        bad[bad.length - 10] ^= 0x40;
        get(records.putBytes(ComponentKeys.chunk(b.digest(), 0), ByteString.copyFrom(bad)));
        BundleRepository other = repository("cache-corrupt-" + name);
        BundleException e = failure(BundleException.class, other.fetch(b.digest()));
        assertEquals("bundle " + b.digest() + " fetched with digest " + BundleArchive.digest(bad), e.getMessage());
        assertFalse(Files.exists(base.resolve("cache-corrupt-" + name).resolve(b.digest())), "nothing extracted");
    }

    @Test
    void aBundleOverTheRepositorysLimitIsRefusedAndLeavesNothing() throws IOException {
        Path cache = base.resolve("cache-small");
        BundleRepository r = new BundleRepository(records, cache, List.of(trusted), Limits.DEFAULTS, 1024, blocking);
        byte[] data = new byte[4096];
        new Random(7).nextBytes(data);
        Signed b = TestBundles.sign(TestBundles.build(base, TestBundles.manifest(ComponentRing.newName("small"), "1", "64M"),
                Map.of("data.bin", data)), key);
        BundleException e = failure(BundleException.class, r.store(b.archive(), b.signature()));
        assertEquals("the bundle has " + b.archive().length + " bytes, more than the limit of 1024", e.getMessage());
        assertEquals(Optional.empty(), stored(b.digest()));
        try (Stream<Path> left = Files.list(cache)) {
            assertEquals(List.of(), left.toList(), "no upload or scratch file is left");
        }
    }

    @Test
    void aPushLeftHalfWayIsRemovedAtTheNextStart() throws IOException {
        Path cache = base.resolve("cache-leftovers");
        BundleRepository r = new BundleRepository(records, cache, List.of(trusted), Limits.DEFAULTS, blocking);
        Path upload = r.newUpload();
        Files.write(upload, new byte[100]);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(upload)));
        Path extracted = Files.createDirectories(cache.resolve("0".repeat(64)));
        r.removeLeftovers();
        try (Stream<Path> left = Files.list(cache)) {
            assertEquals(List.of(extracted), left.toList(), "the upload is gone, the extracted bundle stays");
        }
    }

    /** More chunks than are written or read at once: stored in order and fetched whole. */
    @Test
    void aBundleOfManyChunksRoundTripsFromAFile() throws IOException {
        String name = ComponentRing.newName("many");
        byte[] data = new byte[5 << 20];
        new Random(43).nextBytes(data);
        byte[] archive = TestBundles.build(base, TestBundles.manifest(name, "1.0", "64M"), Map.of("data/blob.bin", data));
        Signed b = TestBundles.sign(archive, key);
        Path file = Files.write(base.resolve(name + ".tar.gz"), archive);
        BundleMeta m = get(repo.store(file, b.signature())).meta();
        assertTrue(m.getChunks() > 2 * BundleRepository.CHUNKS_IN_FLIGHT, m.getChunks() + " chunks");
        assertTrue(Files.exists(file), "the caller's file is left to the caller");
        for (int i : new int[] {0, BundleRepository.CHUNKS_IN_FLIGHT, m.getChunks() - 1}) {
            ByteString chunk = get(records.getBytes(ComponentKeys.chunk(b.digest(), i))).orElseThrow();
            assertEquals(ByteString.copyFrom(archive, i * BundleRepository.CHUNK_SIZE, chunk.size()), chunk, "chunk " + i);
        }
        Path root = get(repository("cache-many-" + name).fetch(b.digest()));
        assertArrayEquals(data, Files.readAllBytes(root.resolve("data/blob.bin")));
    }

    @Test
    void aBundleOfSeveralChunksRoundTrips() throws IOException {
        String name = ComponentRing.newName("big");
        byte[] data = new byte[300 * 1024];
        new Random(42).nextBytes(data); // random: gzip cannot shrink it below one chunk
        byte[] archive = TestBundles.build(base, TestBundles.manifest(name, "2.0", "64M"), Map.of("data/blob.bin", data));
        assertTrue(archive.length > 2 * BundleRepository.CHUNK_SIZE, "archive of " + archive.length + " bytes");
        Signed b = TestBundles.sign(archive, key);
        BundleMeta m = get(repo.store(b.archive(), b.signature())).meta();
        assertEquals(3, m.getChunks());
        assertEquals(archive.length, m.getSize());
        for (int i = 0; i < 3; i++) {
            int size = get(records.getBytes(ComponentKeys.chunk(b.digest(), i))).orElseThrow().size();
            assertEquals(i < 2 ? BundleRepository.CHUNK_SIZE : archive.length - 2 * BundleRepository.CHUNK_SIZE, size, "chunk " + i);
        }
        Path root = get(repository("cache-big-" + name).fetch(b.digest()));
        assertArrayEquals(data, Files.readAllBytes(root.resolve("data/blob.bin")));
    }
}
