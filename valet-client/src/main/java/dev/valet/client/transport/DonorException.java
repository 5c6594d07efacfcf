package dev.valet.client.transport;

import dev.valet.common.protocol.ErrorCode;

/** A donor refused a request with a typed ERROR. */
public final class DonorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public DonorException(String donor, ErrorCode code, String message) {
        super(donor + ": " + code + ": " + message, null, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    /** Whether {@code err} (or the cause a {@code CompletionException} wraps) is a refusal with {@code code}. */
    public static boolean isRefusal(Throwable err, ErrorCode code) {
        Throwable e = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                ? err.getCause() : err;
        return e instanceof DonorException d && d.code == code;
    }
}
