package org.ttrec.dlrm.model.safetensors;

import java.io.IOException;

/**
 * A safetensors file that is not what it should be: truncated, a header that is not JSON, offsets
 * that overlap or leave the file, a missing tensor, a wrong dtype or shape, data that fails its
 * checksum. The message names the file and, where one is to blame, the tensor
 * ({@link #tensor()}), with what was expected and what was found.
 */
public final class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The tensor the problem is in, or null when it concerns the whole file. */
    private final String tensor;

    /**
     * @param tensor  the tensor at fault, or null
     * @param message the whole message (file and tensor included)
     */
    public SafetensorsFormatException(String tensor, String message) {
        super(message);
        this.tensor = tensor;
    }

    /**
     * @param tensor  the tensor at fault, or null
     * @param message the whole message
     * @param cause   the underlying failure (e.g. the JSON parser's)
     */
    public SafetensorsFormatException(String tensor, String message, Throwable cause) {
        super(message, cause);
        this.tensor = tensor;
    }

    /** @return the name of the tensor at fault, or null when the problem concerns the whole file */
    public String tensor() {
        return tensor;
    }
}
