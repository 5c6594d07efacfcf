package dev.valet.common.protocol;

/**
 * Input that breaks the wire protocol. {@link #fatal()} says whether the connection can go on: a bad header
 * loses the frame boundary and is fatal; a bad body inside a well-framed frame is not.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final boolean fatal;

    public ProtocolException(ErrorCode code, String message, boolean fatal) {
        super(message, null, false, false);
        this.code = code;
        this.fatal = fatal;
    }

    /** A malformed body: answer with an error, keep the connection. */
    public static ProtocolException badBody(String message) {
        return new ProtocolException(ErrorCode.BAD_FRAME, message, false);
    }

    public ErrorCode code() {
        return code;
    }

    public boolean fatal() {
        return fatal;
    }
}
