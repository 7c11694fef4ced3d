package io.smalti.credentials.service;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/** The credentials socket's framing: a 4-byte big-endian length, then the message. Stateless. */
public final class Framing {
    /** The largest message either side accepts. */
    public static final int MAX = 1 << 20;

    private Framing() {
    }

    /** Reads one message; null at a clean end of stream. */
    public static byte[] read(ReadableByteChannel in) throws IOException {
        ByteBuffer len = ByteBuffer.allocate(4);
        if (!fill(in, len, true)) {
            return null;
        }
        int n = len.flip().getInt();
        if (n < 0 || n > MAX) {
            throw new IOException("message of " + n + " bytes (at most " + MAX + ")");
        }
        ByteBuffer body = ByteBuffer.allocate(n);
        fill(in, body, false);
        return body.array();
    }

    public static void write(WritableByteChannel out, byte[] message) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + message.length).putInt(message.length).put(message).flip();
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private static boolean fill(ReadableByteChannel in, ByteBuffer b, boolean eofOk) throws IOException {
        while (b.hasRemaining()) {
            if (in.read(b) < 0) {
                if (eofOk && b.position() == 0) {
                    return false;
                }
                throw new EOFException("connection closed mid-message");
            }
        }
        return true;
    }
}
