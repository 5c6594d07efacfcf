package dev.valet.client.transport;

import dev.valet.common.protocol.ErrorCode;

/** A donor refused a request with a typed ERROR. */
public final class DonorException extends RuntimeException {
    private final ErrorCode code;

    public DonorException(String donor, ErrorCode code, String message) {
        super(donor + ": " + code + ": " + message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
