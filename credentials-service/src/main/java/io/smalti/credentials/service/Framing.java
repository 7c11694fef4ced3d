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

    /**
     * Reads messages from a blocking channel, a whole answer usually in one read (not a read for the length and one
     * for the body). Not thread-safe: one per connection, used by its one reader at a time.
     */
    public static final class Reader {
        private static final int INITIAL = 16 * 1024;
        private ByteBuffer buffer = ByteBuffer.allocate(INITIAL);

        /** Reads one message; null at a clean end of stream. */
        public byte[] read(ReadableByteChannel in) throws IOException {
            while (buffer.position() < 4) {
                if (in.read(buffer) < 0) {
                    if (buffer.position() == 0) {
                        return null;
                    }
                    throw new EOFException("connection closed mid-message");
                }
            }
            int n = buffer.getInt(0);
            if (n < 0 || n > MAX) {
                throw new IOException("message of " + n + " bytes (at most " + MAX + ")");
            }
            if (buffer.capacity() < 4 + n) {
                buffer = ByteBuffer.allocate(4 + n).put(buffer.flip());
            }
            while (buffer.position() < 4 + n) {
                if (in.read(buffer) < 0) {
                    throw new EOFException("connection closed mid-message");
                }
            }
            byte[] message = new byte[n];
            buffer.flip().position(4);
            buffer.get(message).compact();
            if (buffer.capacity() > INITIAL && buffer.position() <= INITIAL) {
                buffer = ByteBuffer.allocate(INITIAL).put(buffer.flip());
            }
            return message;
        }
    }

    public static void write(WritableByteChannel out, byte[] message) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 + message.length).putInt(message.length).put(message).flip();
        while (b.hasRemaining()) {
            out.write(b);
        }
    }
}
