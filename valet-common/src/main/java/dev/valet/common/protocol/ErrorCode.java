package dev.valet.common.protocol;

/** Why a request failed; carried by an {@link Opcode#ERROR} reply. */
public enum ErrorCode {
    /** The frame is malformed: bad magic, length, body size or field value. */
    BAD_FRAME(1, false),
    /** The peer speaks a protocol version this side does not. */
    UNSUPPORTED_VERSION(2, false),
    /** The request needs a completed HELLO first. */
    HELLO_REQUIRED(3, false),
    /** No slab with this id belongs to this client. */
    NO_SUCH_SLAB(4, false),
    /** This client already has a slab with this id. */
    SLAB_EXISTS(5, false),
    /** The donor has no memory left to lend for this request. */
    NO_SPACE(6, true),
    /** A page's CRC32C does not match its data. */
    BAD_CHECKSUM(7, true),
    /** A page index lies outside its slab. */
    PAGE_OUT_OF_RANGE(8, false),
    /** A write carries a page version older than the one stored. */
    STALE_VERSION(9, false),
    /** The opcode is not a request this side serves. */
    UNSUPPORTED_OPCODE(10, false),
    /** The donor failed in a way that is not the request's fault. */
    INTERNAL(11, true),
    /** This client identity already has as many slabs here as the donor's {@code limits.maxSlabsPerClient}. */
    TOO_MANY_SLABS(12, false),
    /** EVICT declined: no other donor has room, there is no backup disk, and this is the slab's last copy. */
    EVICT_NOWHERE(20, true),
    /** EVICT declined: the client tried to move the slab and failed (a copy or the backup disk failed). */
    EVICT_FAILED(21, true),
    /** RDMA: the donor could not register the slab's memory for this connection. */
    RDMA_REGISTRATION_FAILED(30, true);

    private static final ErrorCode[] BY_CODE = new ErrorCode[256];

    static {
        for (ErrorCode c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;
    private final boolean retryable;

    ErrorCode(int code, boolean retryable) {
        this.code = code;
        this.retryable = retryable;
    }

    public int code() {
        return code;
    }

    /** Whether the same request may succeed if sent again (possibly to the same donor). */
    public boolean retryable() {
        return retryable;
    }

    /** The error code for a wire value, or {@code null} if unknown. */
    public static ErrorCode fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
