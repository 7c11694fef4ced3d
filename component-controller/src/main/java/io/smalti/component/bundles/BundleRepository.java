package io.smalti.component.bundles;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
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
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
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
    /** The largest bundle archive accepted when the node's settings say nothing (docs/bundles.md). */
    public static final long DEFAULT_MAX_ARCHIVE_BYTES = 256L << 20;
    /**
     * Chunk writes in flight while a bundle is stored, and chunk reads while one is fetched: enough to keep the
     * replicas busy, while a 256 MiB bundle never sits in memory whole (2 MiB of it at a time).
     */
    static final int CHUNKS_IN_FLIGHT = 16;
    /** Name prefixes of this repository's scratch files and directories in the cache directory. */
    private static final String UPLOAD_PREFIX = ".push-";
    private static final String FETCH_PREFIX = ".fetch-";
    private static final String VERIFY_PREFIX = ".verify-";

    private final ComponentRecords records;
    private final Path cacheDir;
    private final List<Path> trustedKeyPlaces;
    private final Limits limits;
    private final long maxArchiveBytes;
    private final Executor blocking;
    private final ConcurrentHashMap<String, CompletableFuture<Path>> fetching = new ConcurrentHashMap<>();

    /** A repository accepting archives of up to {@link #DEFAULT_MAX_ARCHIVE_BYTES}. */
    public BundleRepository(ComponentRecords records, Path cacheDir, List<Path> trustedKeyPlaces, Limits limits,
                            Executor blocking) {
        this(records, cacheDir, trustedKeyPlaces, limits, DEFAULT_MAX_ARCHIVE_BYTES, blocking);
    }

    /**
     * @param cacheDir where fetched bundles are extracted, one directory per digest; pushed archives are received
     *     here too (hidden files), so that they are on the node's own disk, not in a shared /tmp
     * @param trustedKeyPlaces public key files ({@code .pub}) or directories holding them; read on each push
     * @param limits what one bundle may extract to (the manifest's resources.disk may lower the total)
     * @param maxArchiveBytes the largest archive (as pushed, compressed) accepted
     */
    public BundleRepository(ComponentRecords records, Path cacheDir, List<Path> trustedKeyPlaces, Limits limits,
                            long maxArchiveBytes, Executor blocking) {
        if (maxArchiveBytes < 1) {
            throw new IllegalArgumentException("the largest bundle must be at least 1 byte, got " + maxArchiveBytes);
        }
        this.records = records;
        this.cacheDir = cacheDir;
        this.trustedKeyPlaces = List.copyOf(trustedKeyPlaces);
        this.limits = limits;
        this.maxArchiveBytes = maxArchiveBytes;
        this.blocking = blocking;
    }

    /**
     * Creates the cache directory owner-only (0700), like the rest of a node's data directory. The bundles in it
     * stay readable (0755, 0644): containers read them through mounts root makes, not through this directory.
     */
    private void createCacheDir() throws IOException {
        if (!Files.isDirectory(cacheDir)) {
            Files.createDirectories(cacheDir.toAbsolutePath().getParent());
            try {
                Files.createDirectory(cacheDir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // made meanwhile by a concurrent push or fetch
            }
        }
    }

    /** The largest archive {@link #store} accepts, in bytes. */
    public long maxArchiveBytes() {
        return maxArchiveBytes;
    }

    /**
     * Removes what an earlier run left in the cache directory when it stopped in the middle of a push, a fetch or
     * an extraction (hidden names only: extracted bundles stay). Call before the first push or fetch.
     */
    public void removeLeftovers() {
        if (!Files.isDirectory(cacheDir)) {
            return;
        }
        try (Stream<Path> files = Files.list(cacheDir)) {
            files.filter(p -> p.getFileName().toString().startsWith(".")).forEach(p -> {
                LOG.info("Removing {}, left by an interrupted push or fetch", p);
                deleteTree(p);
            });
        } catch (IOException e) {
            LOG.warn("Cannot list {}: {}", cacheDir, e.getMessage());
        }
    }

    /**
     * A new, empty file (0600) in the cache directory to receive a pushed archive into; the caller deletes it once
     * {@link #store} completed.
     */
    public Path newUpload() throws IOException {
        createCacheDir();
        return Files.createTempFile(cacheDir, UPLOAD_PREFIX, ".tar.gz"); // 0600, whatever the umask
    }

    /**
     * Verifies and stores a pushed bundle; completes with its metadata (and whether it was new), or
     * exceptionally with a {@link BundleException} saying what was wrong. Writes the archive to a temporary file
     * first: {@link #store(Path, byte[])} is the way for a large one.
     */
    public CompletionStage<Stored> store(byte[] archive, byte[] signatureFile) {
        Path file;
        try {
            file = newUpload();
            Files.write(file, archive);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new UncheckedIOException("cannot write the bundle in " + cacheDir
                    + ": " + e.getMessage(), e));
        }
        return store(file, signatureFile).whenComplete((s, err) -> deleteTree(file));
    }

    /**
     * Verifies and stores the pushed bundle in the archive file {@code archive} (left in place: the caller's),
     * reading it in a stream; completes as {@link #store(byte[], byte[])}.
     */
    public CompletionStage<Stored> store(Path archive, byte[] signatureFile) {
        return CompletableFuture.supplyAsync(() -> verify(archive, signatureFile), blocking).thenCompose(meta ->
                records.get(ComponentKeys.bundle(meta.getDigest()), BundleMeta.parser()).thenCompose(existing -> {
                    if (existing.isPresent()) {
                        return CompletableFuture.completedFuture(new Stored(existing.get(), false));
                    }
                    // The metadata last: a bundle is listed only once every chunk is stored.
                    return CompletableFuture.runAsync(() -> writeChunks(archive, meta), blocking)
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

    /**
     * Writes the archive's chunks, {@link #CHUNKS_IN_FLIGHT} at a time, reading each from the file as a place
     * frees up. Runs on the blocking executor (it reads the file and waits for places); throws the first failed
     * write's error.
     */
    private void writeChunks(Path archive, BundleMeta meta) {
        Semaphore places = new Semaphore(CHUNKS_IN_FLIGHT);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        try (InputStream in = Files.newInputStream(archive)) {
            for (int i = 0; i < meta.getChunks() && failed.get() == null; i++) {
                int expected = (int) Math.min(CHUNK_SIZE, meta.getSize() - (long) i * CHUNK_SIZE);
                byte[] bytes = in.readNBytes(expected);
                if (bytes.length != expected) {
                    throw new BundleException("the bundle " + archive + " changed while it was stored");
                }
                ByteString chunk = UnsafeByteOperations.unsafeWrap(bytes); // never written to again
                places.acquire();
                records.putBytes(ComponentKeys.chunk(meta.getDigest(), i), chunk).whenComplete((x, err) -> {
                    if (err != null) {
                        failed.compareAndSet(null, err);
                    }
                    places.release();
                });
            }
            places.acquire(CHUNKS_IN_FLIGHT); // every write answered
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundle " + archive + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while storing bundle " + meta.getDigest(), e);
        }
        if (failed.get() != null) {
            throw new CompletionException(failed.get());
        }
    }

    private BundleMeta verify(Path archive, byte[] signatureFile) {
        long size;
        try {
            size = Files.size(archive);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundle " + archive + ": " + e.getMessage(), e);
        }
        if (size == 0) {
            throw new BundleException("the bundle is empty");
        }
        if (size > maxArchiveBytes) {
            throw new BundleException("the bundle has " + size + " bytes, more than the limit of " + maxArchiveBytes);
        }
        BundleSignature signature = BundleSignature.parse(signatureFile);
        BundleSignature.verifyDigest(BundleArchive.sha256(archive), signature, trustedKeys());
        String digest = signature.digest();
        Path scratch = null;
        try {
            createCacheDir();
            scratch = Files.createTempDirectory(cacheDir, VERIFY_PREFIX);
            Manifest manifest = BundleExtractor.extract(archive, scratch.resolve("root"), limits);
            return BundleMeta.newBuilder()
                    .setDigest(digest)
                    .setName(manifest.name())
                    .setVersion(manifest.version())
                    .setSize(size)
                    .setSignedBy(signature.key())
                    .setChunks((int) ((size + CHUNK_SIZE - 1) / CHUNK_SIZE))
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
        meta(digest).thenApplyAsync(m -> {
            BundleMeta meta = m.orElseThrow(() -> new BundleException("no bundle " + digest + " is stored"));
            return fetchInto(meta, root);
        }, blocking).whenComplete((path, err) -> {
            fetching.remove(digest, mine);
            if (err != null) {
                mine.completeExceptionally(err);
            } else {
                mine.complete(path);
            }
        });
        return mine;
    }

    /**
     * Reads the bundle's chunks into a scratch file, {@link #CHUNKS_IN_FLIGHT} at a time and in order, checks the
     * digest and extracts it to {@code root}. Runs on the blocking executor (it waits for the reads).
     */
    private Path fetchInto(BundleMeta meta, Path root) {
        String digest = meta.getDigest();
        Path file = null;
        try {
            createCacheDir();
            file = Files.createTempFile(cacheDir, FETCH_PREFIX, ".tar.gz");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long at = 0;
            try (OutputStream out = Files.newOutputStream(file)) {
                for (int first = 0; first < meta.getChunks(); first += CHUNKS_IN_FLIGHT) {
                    List<CompletableFuture<Optional<ByteString>>> window = new ArrayList<>();
                    for (int i = first; i < Math.min(meta.getChunks(), first + CHUNKS_IN_FLIGHT); i++) {
                        // One replica's answer will do: a chunk never changes, and the whole archive's digest is checked.
                        window.add(records.getBytes(ComponentKeys.chunk(digest, i), 1).toCompletableFuture());
                    }
                    for (int k = 0; k < window.size(); k++) {
                        int index = first + k;
                        ByteString chunk = window.get(k).join().orElseThrow(() ->
                                new BundleException("chunk " + index + " of bundle " + digest + " is missing"));
                        if (at + chunk.size() > meta.getSize()) {
                            throw new BundleException("bundle " + digest + " has more bytes than its metadata says");
                        }
                        chunk.writeTo(out);
                        sha.update(chunk.asReadOnlyByteBuffer());
                        at += chunk.size();
                    }
                }
            }
            if (at != meta.getSize()) {
                throw new BundleException("bundle " + digest + " has " + at + " bytes, its metadata says " + meta.getSize());
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(digest)) {
                throw new BundleException("bundle " + digest + " fetched with digest " + actual);
            }
            BundleExtractor.extract(file, root, limits);
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch bundle " + digest + " into " + cacheDir + ": " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        } finally {
            deleteTree(file);
        }
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
