package dev.valet.common.protocol;

/**
 * What a frame asks for or answers. A reply's opcode is its request's opcode with the high bit set; any request
 * may instead be answered by {@link #ERROR}.
 */
public enum Opcode {
    HELLO(0x01),
    STATS(0x02),
    ALLOC_SLAB(0x03),
    FREE_SLAB(0x04),
    WRITE_PAGES(0x05),
    READ_PAGES(0x06),
    HEARTBEAT(0x07),
    LIST_SLABS(0x08),
    READ_INDEX(0x09),
    /** The client's proof that it holds the cluster secret; see {@link AuthProof}. */
    AUTH(0x0A),
    /** How much each client identity holds on the donor, for operators; see {@link ClientShares}. */
    CLIENT_SHARES(0x0B),
    /** Sent by the donor to the client (request id with {@link FrameHeader#DONOR_REQUEST_BIT}): move this slab away. */
    EVICT(0x10),
    /** RDMA only: make one of the caller's slabs remotely accessible to this connection (docs/protocol.md). */
    REGISTER_SLAB(0x20),

    HELLO_OK(0x81),
    STATS_OK(0x82),
    ALLOC_SLAB_OK(0x83),
    FREE_SLAB_OK(0x84),
    WRITE_PAGES_OK(0x85),
    READ_PAGES_OK(0x86),
    HEARTBEAT_OK(0x87),
    LIST_SLABS_OK(0x88),
    READ_INDEX_OK(0x89),
    AUTH_OK(0x8A),
    CLIENT_SHARES_OK(0x8B),
    /** The client's answer to EVICT: migrated (after its FREE_SLAB) or declined with a reason. */
    EVICT_OK(0x90),
    REGISTER_SLAB_OK(0xA0),

    ERROR(0xFF);

    private static final Opcode[] BY_CODE = new Opcode[256];

    static {
        for (Opcode op : values()) {
            BY_CODE[op.code] = op;
        }
    }

    private final int code;

    Opcode(int code) {
        this.code = code;
    }

    /** The byte on the wire. */
    public int code() {
        return code;
    }

    /** Whether this opcode is a reply (success or error). */
    public boolean isReply() {
        return (code & 0x80) != 0;
    }

    /** The success reply of this request opcode. */
    public Opcode reply() {
        if (isReply()) {
            throw new IllegalStateException(this + " is already a reply");
        }
        return BY_CODE[code | 0x80];
    }

    /** The opcode for a wire byte, or {@code null} when the byte names no opcode. */
    public static Opcode fromCode(int code) {
        return BY_CODE[code & 0xFF];
    }
}
