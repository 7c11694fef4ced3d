package io.smalti.ring.crdt;

import com.google.protobuf.ByteString;
import java.util.Comparator;
import java.util.HexFormat;

/** Byte-string helpers shared by the CRDTs. Stateless. */
final class Bytes {
    /** Unsigned lexicographic order, the order canonical encodings sort by. */
    static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();

    private Bytes() {}

    /** Quoted text when the bytes are printable ASCII, else {@code 0x} and hex, so toString stays readable. */
    static String show(ByteString bytes) {
        for (int i = 0; i < bytes.size(); i++) {
            byte b = bytes.byteAt(i);
            if (b < 0x20 || b > 0x7e) {
                return "0x" + HexFormat.of().formatHex(bytes.toByteArray());
            }
        }
        return '"' + bytes.toStringUtf8() + '"';
    }
}
