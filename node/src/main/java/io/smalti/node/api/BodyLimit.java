package io.smalti.node.api;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/**
 * The most bytes a route reads of a request body, and the 413 a client gets past it. A body that declares its
 * length (Content-Length) over the limit is refused before a byte of it is read; a chunked one fails at the
 * first chunk past the limit, so the handler never sees more than the limit (pekko-http's size limit, which
 * this sets for the route: it overrides {@code pekko.http.server.parsing.max-content-length}). Immutable.
 */
final class BodyLimit extends AllDirectives {
    private final long maxBytes;

    BodyLimit(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("a body limit must be at least 1 byte, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    long maxBytes() {
        return maxBytes;
    }

    /** {@code inner} with this limit on the request body. */
    Route apply(Supplier<Route> inner) {
        return extractRequestEntity(entity -> {
            OptionalLong declared = entity.getContentLengthOption();
            if (declared.isPresent() && declared.getAsLong() > maxBytes) {
                // Answered before the body is read; pekko-http then closes the connection (an early response),
                // rather than read what the client still sends: up to its whole body. A client still sending may
                // see the connection reset before it read this 413 (JDK 17's client pushing 300 MiB: 1 push in
                // 10; a Connection: close header made it 4 in 10, and reading on for a second after it did not
                // help: the close comes first). The CLI says so when its push fails that way.
                return complete(tooLarge(declared, maxBytes));
            }
            return withSizeLimit(maxBytes, inner);
        });
    }

    /** The 413 for a body of {@code size} bytes (empty: not known, cut off while streaming) over {@code limit}. */
    static HttpResponse tooLarge(OptionalLong size, long limit) {
        String limitText = size(limit);
        String sizeText = "";
        if (size.isPresent()) {
            sizeText = size(size.getAsLong());
            if (sizeText.replace(".0 ", " ").equals(limitText)) { // "1.0 MiB is over 1 MiB" would puzzle: say bytes
                sizeText = size.getAsLong() + " bytes";
                limitText = limit + " bytes (" + limitText + ")";
            }
            sizeText = "of " + sizeText + " ";
        }
        return Json.error(StatusCodes.PAYLOAD_TOO_LARGE, "request body " + sizeText + "is over this route's limit of "
                + limitText);
    }

    /**
     * The 413 for pekko-http's size failure anywhere in {@code err}'s causes (a body cut off at the limit), else
     * null. pekko-http closes the connection after it: the rest of the body is not read.
     */
    static HttpResponse tooLarge(Throwable err) {
        for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof EntityStreamSizeException e) {
                return tooLarge(e.actualSize().isDefined() ? OptionalLong.of((Long) e.actualSize().get())
                        : OptionalLong.empty(), e.limit());
            }
        }
        return null;
    }

    /** Bytes as an operator writes them: "300 MiB", "1.5 KiB", "800 bytes". */
    static String size(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        if (bytes < 1024) {
            return bytes + (bytes == 1 ? " byte" : " bytes");
        }
        int u = 0;
        long unit = 1024;
        while (u < units.length - 1 && bytes >= unit * 1024) {
            unit *= 1024;
            u++;
        }
        return bytes % unit == 0 ? bytes / unit + " " + units[u]
                : String.format(Locale.ROOT, "%.1f %s", (double) bytes / unit, units[u]);
    }
}
