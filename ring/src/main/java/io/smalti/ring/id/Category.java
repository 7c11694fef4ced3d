package io.smalti.ring.id;

/**
 * What an {@link Id} names. The code is stored in the id's 16-bit category field, so codes are part of
 * the wire and disk format: never renumber one.
 */
public enum Category {
    NODE(1),
    BUNDLE(2),
    TYPE(3),
    INSTANCE(4),
    GROUP(5),
    /** A record keyed by an arbitrary name hashed into the id space (e.g. the debug key-value service). */
    RECORD(6);

    private final int code;

    Category(int code) {
        this.code = code;
    }

    /** The 16-bit code stored in ids. */
    public int code() {
        return code;
    }

    /**
     * The category with this code.
     *
     * @throws IllegalArgumentException naming the code when no category has it
     */
    public static Category ofCode(int code) {
        for (Category c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        throw new IllegalArgumentException(String.format("unknown id category 0x%04x", code));
    }
}
