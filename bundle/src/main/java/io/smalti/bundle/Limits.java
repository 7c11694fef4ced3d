package io.smalti.bundle;

/**
 * How much an extracted bundle may hold: entries, bytes of one entry, bytes in all. Immutable.
 *
 * @param maxEntries     the most archive entries (files, directories, links) one bundle may have
 * @param maxEntryBytes  the most bytes one file may decompress to
 * @param maxTotalBytes  the most bytes all files together may decompress to
 */
public record Limits(int maxEntries, long maxEntryBytes, long maxTotalBytes) {
    /** 4096 entries, 256 MiB per entry, 1 GiB in all. */
    public static final Limits DEFAULTS = new Limits(4096, 256L << 20, 1L << 30);

    public Limits {
        if (maxEntries < 1 || maxEntryBytes < 0 || maxTotalBytes < 0) {
            throw new IllegalArgumentException("limits must be positive: " + maxEntries + ", " + maxEntryBytes
                    + ", " + maxTotalBytes);
        }
    }
}
