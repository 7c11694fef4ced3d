package io.smalti.component.bundles;

import com.google.protobuf.ByteString;
import io.smalti.bundle.BundleArchive;
import io.smalti.bundle.BundleException;
import io.smalti.bundle.BundleExtractor;
import io.smalti.bundle.BundleSignature;
import io.smalti.bundle.Limits;
import io.smalti.bundle.Manifest;
import io.smalti.bundle.TrustedKey;
import io.smalti.component.records.ComponentKeys;
import io.smalti.component.records.ComponentRecords;
import io.smalti.protocol.component.BundleMeta;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Stream;

/**
 * The bundle repository on the ring: a pushed bundle is verified (signature by a trusted developer key,
 * digest, a complete safe extraction), then stored by digest as chunks replicated like every record;
 * nodes fetch what they run into a local cache, verifying it again. Thread-safe; blocking work (hashing,
 * extraction) runs on the given executor.
 */
public final class BundleRepository {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BundleRepository.class);
    /** Small enough for one replication message between nodes. */
    static final int CHUNK_SIZE = 128 * 1024;
    /** The largest bundle accepted. */
    public static final long MAX_BUNDLE_BYTES = 256L << 20;

    private final ComponentRecords records;
    private final Path cacheDir;
    private final List<Path> trustedKeyPlaces;
    private final Limits limits;
    private final Executor blocking;
    private final ConcurrentHashMap<String, CompletableFuture<Path>> fetching = new ConcurrentHashMap<>();

    /**
     * @param cacheDir where fetched bundles are extracted, one directory per digest
     * @param trustedKeyPlaces public key files ({@code .pub}) or directories holding them; read on each push
     */
    public BundleRepository(ComponentRecords records, Path cacheDir, List<Path> trustedKeyPlaces, Limits limits,
                            Executor blocking) {
        this.records = records;
        this.cacheDir = cacheDir;
        this.trustedKeyPlaces = List.copyOf(trustedKeyPlaces);
        this.limits = limits;
        this.blocking = blocking;
    }

    /**
     * Verifies and stores a pushed bundle; completes with its metadata (and whether it was new), or
     * exceptionally with a {@link BundleException} saying what was wrong.
     */
    public CompletionStage<Stored> store(byte[] archive, byte[] signatureFile) {
        return CompletableFuture.supplyAsync(() -> verify(archive, signatureFile), blocking).thenCompose(meta ->
                records.get(ComponentKeys.bundle(meta.getDigest()), BundleMeta.parser()).thenCompose(existing -> {
                    if (existing.isPresent()) {
                        return CompletableFuture.completedFuture(new Stored(existing.get(), false));
                    }
                    List<CompletableFuture<Void>> writes = new ArrayList<>();
                    for (int i = 0; i < meta.getChunks(); i++) {
                        int from = i * CHUNK_SIZE;
                        int to = Math.min(archive.length, from + CHUNK_SIZE);
                        writes.add(records.putBytes(ComponentKeys.chunk(meta.getDigest(), i),
                                ByteString.copyFrom(archive, from, to - from)).toCompletableFuture());
                    }
                    // The metadata last: a bundle is listed only once every chunk is stored.
                    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
                            .thenCompose(x -> records.put(ComponentKeys.bundle(meta.getDigest()), meta))
                            .thenCompose(x -> records.add(ComponentKeys.BUNDLE_INDEX, meta.getDigest()))
                            .thenApply(x -> {
                                LOG.info("Stored bundle {} {} ({} bytes, {} chunks) as {}", meta.getName(),
                                        meta.getVersion(), meta.getSize(), meta.getChunks(), meta.getDigest());
                                return new Stored(meta, true);
                            });
                }));
    }

    /** A stored bundle's metadata; {@code created} is false when it had been stored before. */
    public record Stored(BundleMeta meta, boolean created) {}

    private BundleMeta verify(byte[] archive, byte[] signatureFile) {
        if (archive.length == 0) {
            throw new BundleException("the bundle is empty");
        }
        if (archive.length > MAX_BUNDLE_BYTES) {
            throw new BundleException("the bundle has " + archive.length + " bytes, more than the limit of " + MAX_BUNDLE_BYTES);
        }
        BundleSignature signature = BundleSignature.parse(signatureFile);
        BundleSignature.verify(archive, signature, trustedKeys());
        String digest = signature.digest();
        Path scratch = null;
        try {
            Files.createDirectories(cacheDir);
            scratch = Files.createTempDirectory(cacheDir, ".verify-");
            Manifest manifest = BundleExtractor.extract(archive, scratch.resolve("root"), limits);
            return BundleMeta.newBuilder()
                    .setDigest(digest)
                    .setName(manifest.name())
                    .setVersion(manifest.version())
                    .setSize(archive.length)
                    .setSignedBy(signature.key())
                    .setChunks((archive.length + CHUNK_SIZE - 1) / CHUNK_SIZE)
                    .setChunkSize(CHUNK_SIZE)
                    .setStoredAtMillis(System.currentTimeMillis())
                    .setManifest(ByteString.copyFrom(manifest.toJson()))
                    .setSignature(ByteString.copyFrom(signatureFile))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot verify the bundle in " + cacheDir + ": " + e.getMessage(), e);
        } finally {
            deleteTree(scratch);
        }
    }

    /** The developer keys this node trusts now. */
    public List<TrustedKey> trustedKeys() {
        List<TrustedKey> keys = new ArrayList<>();
        for (Path place : trustedKeyPlaces) {
            if (Files.isDirectory(place)) {
                try (Stream<Path> files = Files.list(place)) {
                    files.filter(f -> f.getFileName().toString().endsWith(".pub")).sorted().forEach(f -> keys.add(TrustedKey.load(f)));
                } catch (IOException e) {
                    LOG.warn("Cannot read trusted keys in {}: {}", place, e.getMessage());
                }
            } else if (Files.isRegularFile(place)) {
                keys.add(TrustedKey.load(place));
            }
        }
        return keys;
    }

    public CompletionStage<Optional<BundleMeta>> meta(String digest) {
        return records.get(ComponentKeys.bundle(digest), BundleMeta.parser());
    }

    public CompletionStage<List<BundleMeta>> list() {
        return records.members(ComponentKeys.BUNDLE_INDEX).thenCompose(digests -> {
            List<CompletableFuture<Optional<BundleMeta>>> reads = digests.stream()
                    .map(d -> meta(d).toCompletableFuture()).toList();
            return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
                    .thenApply(x -> reads.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
        });
    }

    /**
     * The bundle's extracted root in this node's cache, fetching, verifying and extracting it first when
     * needed. Concurrent fetches of one digest share the work.
     */
    public CompletionStage<Path> fetch(String digest) {
        Path root = cacheDir.resolve(digest);
        if (Files.isDirectory(root)) {
            return CompletableFuture.completedFuture(root);
        }
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> running = fetching.putIfAbsent(digest, mine);
        if (running != null) {
            return running;
        }
        meta(digest).thenCompose(m -> {
            BundleMeta meta = m.orElseThrow(() -> new BundleException("no bundle " + digest + " is stored"));
            List<CompletableFuture<Optional<ByteString>>> chunks = new ArrayList<>();
            for (int i = 0; i < meta.getChunks(); i++) {
                // One replica's answer will do: a chunk never changes, and the whole archive's digest is checked.
                chunks.add(records.getBytes(ComponentKeys.chunk(digest, i), 1).toCompletableFuture());
            }
            return CompletableFuture.allOf(chunks.toArray(CompletableFuture[]::new)).thenApplyAsync(x -> {
                byte[] archive = new byte[(int) meta.getSize()];
                int at = 0;
                for (int i = 0; i < chunks.size(); i++) {
                    int index = i;
                    ByteString chunk = chunks.get(i).join().orElseThrow(() ->
                            new BundleException("chunk " + index + " of bundle " + digest + " is missing"));
                    if (at + chunk.size() > archive.length) {
                        throw new BundleException("bundle " + digest + " has more bytes than its metadata says");
                    }
                    chunk.copyTo(archive, at);
                    at += chunk.size();
                }
                if (at != archive.length) {
                    throw new BundleException("bundle " + digest + " has " + at + " bytes, its metadata says " + archive.length);
                }
                String actual = BundleArchive.digest(archive);
                if (!actual.equals(digest)) {
                    throw new BundleException("bundle " + digest + " fetched with digest " + actual);
                }
                BundleExtractor.extract(archive, root, limits);
                return root;
            }, blocking);
        }).whenComplete((path, err) -> {
            fetching.remove(digest, mine);
            if (err != null) {
                mine.completeExceptionally(err);
            } else {
                mine.complete(path);
            }
        });
        return mine;
    }

    /** The manifest of a stored bundle. */
    public static Manifest manifest(BundleMeta meta) {
        return Manifest.parse(meta.getManifest().toByteArray());
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.warn("Cannot delete {}: {}", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            LOG.warn("Cannot delete {}: {}", dir, e.getMessage());
        }
    }
}
