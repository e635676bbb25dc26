package org.ttrec.dlrm.model.safetensors;

/**
 * The element types a safetensors header may name, with their sizes in bytes. ttrec writes only
 * {@link #F32} (parameters) and {@link #I64} (cached row ids); the others are known so that a file
 * holding, say, F16 weights is refused with "dtype F16, expected F32" rather than "unknown dtype".
 */
public enum Dtype {
    /** Boolean, one byte. */
    BOOL(1),
    /** Unsigned 8-bit integer. */
    U8(1),
    /** Signed 8-bit integer. */
    I8(1),
    /** 8-bit float, 5 exponent bits. */
    F8_E5M2(1),
    /** 8-bit float, 4 exponent bits. */
    F8_E4M3(1),
    /** Signed 16-bit integer. */
    I16(2),
    /** Unsigned 16-bit integer. */
    U16(2),
    /** IEEE half precision. */
    F16(2),
    /** bfloat16. */
    BF16(2),
    /** Signed 32-bit integer. */
    I32(4),
    /** Unsigned 32-bit integer. */
    U32(4),
    /** IEEE single precision. */
    F32(4),
    /** IEEE double precision. */
    F64(8),
    /** Signed 64-bit integer. */
    I64(8),
    /** Unsigned 64-bit integer. */
    U64(8);

    private final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    /** @return bytes per element */
    public int bytes() {
        return bytes;
    }

    /**
     * @param name a header's dtype string, e.g. "F32" (case as the format writes it: upper)
     * @return the dtype, or null when the name is not one of the format's dtypes
     */
    public static Dtype parse(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** @return the known names, for messages */
    static String known() {
        StringBuilder sb = new StringBuilder();
        for (Dtype d : values()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(d.name());
        }
        return sb.toString();
    }
}
