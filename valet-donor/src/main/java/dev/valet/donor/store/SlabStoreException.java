package dev.valet.donor.store;

import dev.valet.common.protocol.ErrorCode;

/** A slab request the store refuses, with the wire error code to answer it with. */
public final class SlabStoreException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public SlabStoreException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
