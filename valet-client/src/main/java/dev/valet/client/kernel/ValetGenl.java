package dev.valet.client.kernel;

/**
 * The constants of {@code native/kernel/valet_uapi.h}, the generic netlink contract between the valet block
 * driver and this daemon. Each field is the header's name without its {@code VALET_} prefix
 * ({@code VALET_CMD_ATTACH} is {@link #CMD_ATTACH}); {@code ValetUapiHeaderTest} parses the header and fails on
 * any difference, so the two sides cannot drift. Read the header for what each command and attribute means.
 */
public final class ValetGenl {
    private ValetGenl() {
    }

    public static final String GENL_NAME = "VALET";
    public static final int GENL_VERSION = 1;

    /** Largest buffer one request may need, in bytes (the driver issues at most {@link #MAX_REQ_BYTES}). */
    public static final int MAX_IO_BYTES = 64 * 1024;
    /** The largest request the driver issues: less than {@link #MAX_IO_BYTES}, because nla_len is 16 bits. */
    public static final int MAX_REQ_BYTES = 60 * 1024;
    /** The driver's logical and physical block size. */
    public static final int BLOCK_SIZE = 4096;

    // enum valet_cmd
    public static final int CMD_UNSPEC = 0;
    public static final int CMD_ATTACH = 1;
    public static final int CMD_DETACH = 2;
    public static final int CMD_CREATE = 3;
    public static final int CMD_DESTROY = 4;
    public static final int CMD_STATUS = 5;
    public static final int CMD_IO = 6;
    public static final int CMD_DONE = 7;
    public static final int CMD_MAX = 7;

    // enum valet_attr
    public static final int ATTR_UNSPEC = 0;
    /** u32: {@link #GENL_VERSION}, in ATTACH. */
    public static final int ATTR_VERSION = 1;
    /** u32: N of /dev/valetN. */
    public static final int ATTR_INDEX = 2;
    /** u64: device size in bytes. */
    public static final int ATTR_SIZE = 3;
    /** u32: tags per hardware queue. */
    public static final int ATTR_QUEUE_DEPTH = 4;
    /** u32: how long requests wait for a daemon. */
    public static final int ATTR_HOLD_MS = 5;
    /** u32: one request's timeout. */
    public static final int ATTR_IO_TIMEOUT_MS = 6;
    /** nested {@code REQ_*}, repeated in IO. */
    public static final int ATTR_REQ = 7;
    /** nested {@code CPL_*}, repeated in DONE. */
    public static final int ATTR_CPL = 8;
    /** u8: a daemon is attached. */
    public static final int ATTR_ATTACHED = 9;
    public static final int ATTR_STAT_INFLIGHT = 10;
    public static final int ATTR_STAT_HELD = 11;
    public static final int ATTR_STAT_READS = 12;
    public static final int ATTR_STAT_WRITES = 13;
    public static final int ATTR_STAT_READ_BYTES = 14;
    public static final int ATTR_STAT_WRITE_BYTES = 15;
    public static final int ATTR_STAT_ERRORS = 16;
    public static final int ATTR_STAT_TIMEOUTS = 17;
    public static final int ATTR_STAT_RESENT = 18;
    public static final int ATTR_STAT_REJECTED = 19;
    public static final int ATTR_PAD = 20;
    public static final int ATTR_MAX = 20;

    // enum valet_req_attr
    public static final int REQ_UNSPEC = 0;
    /** u64: identifies the request until it completes. */
    public static final int REQ_COOKIE = 1;
    /** u8: {@code OP_*}. */
    public static final int REQ_OP = 2;
    /** u64: byte offset, a multiple of {@link #BLOCK_SIZE}. */
    public static final int REQ_OFFSET = 3;
    /** u32: bytes, a multiple of {@link #BLOCK_SIZE}. */
    public static final int REQ_LENGTH = 4;
    /** binary: LENGTH bytes, writes only. */
    public static final int REQ_DATA = 5;
    public static final int REQ_PAD = 6;
    public static final int REQ_MAX = 6;

    // enum valet_cpl_attr
    public static final int CPL_UNSPEC = 0;
    /** u64: the request's cookie. */
    public static final int CPL_COOKIE = 1;
    /** s32: 0, or a negative errno (the request fails). */
    public static final int CPL_STATUS = 2;
    /** binary: the request's LENGTH bytes, reads only. */
    public static final int CPL_DATA = 3;
    public static final int CPL_PAD = 4;
    public static final int CPL_MAX = 4;

    // enum valet_op
    public static final int OP_READ = 0;
    public static final int OP_WRITE = 1;
    public static final int OP_FLUSH = 2;
}
