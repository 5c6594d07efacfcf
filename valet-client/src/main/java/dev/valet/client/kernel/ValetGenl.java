package dev.valet.client.kernel;

/**
 * The constants of {@code native/kernel/valet_uapi.h}, the generic netlink contract between the valet block
 * driver and this daemon. Each field is the header's name without its {@code VALET_} prefix
 * ({@code VALET_CMD_ATTACH} is {@link #CMD_ATTACH}); {@code ValetUapiHeaderTest} parses the header and fails on
 * any difference, so the two sides cannot drift. Read the header for what each command and attribute means.
 *
 * <p>Since version 2, page data never rides in netlink messages. Each device has a data area the driver allocates
 * at CREATE ({@link #ATTR_DATA_BYTES}); the attached daemon maps it ({@link DataArea}) and a request's
 * {@link #REQ_BUF} says where its bytes are in it. Version 3 adds the tier area ({@link #ATTR_TIER_BYTES}): memory
 * the driver keeps for the daemon's host tier, so that it outlives the daemon.
 */
public final class ValetGenl {
    private ValetGenl() {
    }

    public static final String GENL_NAME = "VALET";
    public static final int GENL_VERSION = 3;

    /** Largest single request the driver issues (max_hw_sectors), in bytes. */
    public static final int MAX_IO_BYTES = 512 * 1024;
    /** The driver's logical and physical block size. */
    public static final int BLOCK_SIZE = 4096;

    /** The data areas' character device; device N's area is at file offset {@link #dataMmapOffset}(N). */
    public static final String DATA_DEVICE = "/dev/valet-data";
    public static final int DATA_MMAP_SHIFT = 40;
    /** Data area bounds and default (CREATE's {@link #ATTR_DATA_BYTES}), in bytes. */
    public static final int MIN_DATA_BYTES = MAX_IO_BYTES;
    public static final long MAX_DATA_BYTES = 1L << 30;
    public static final int DEF_DATA_BYTES = 8 * 1024 * 1024;
    /** Device N's tier area is at file offset {@link #tierMmapOffset}(N) of {@link #DATA_DEVICE}. */
    public static final int TIER_MMAP_SHIFT = 39;
    /** Tier area bound (CREATE's {@link #ATTR_TIER_BYTES}), in bytes: the tier is one buffer, int-indexed. */
    public static final long MAX_TIER_BYTES = 1L << 30;

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
    /** u64: size of the device's data area. */
    public static final int ATTR_DATA_BYTES = 21;
    /** u64: requests that waited for room in the data area. */
    public static final int ATTR_STAT_BUSY = 22;
    /** u64: IO messages sent. */
    public static final int ATTR_STAT_MESSAGES = 23;
    /** u64: sum over sends of ns from queue_rq to the unicast. */
    public static final int ATTR_STAT_QUEUED_NS = 24;
    /** u64: sum over DONEs of ns from the unicast to the DONE. */
    public static final int ATTR_STAT_SERVED_NS = 25;
    /** u64: size of the device's tier area, 0: none. */
    public static final int ATTR_TIER_BYTES = 26;
    public static final int ATTR_MAX = 26;

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
    /** u32: byte offset of the request's LENGTH bytes in the data area (reads, writes). */
    public static final int REQ_BUF = 5;
    public static final int REQ_PAD = 6;
    public static final int REQ_MAX = 6;

    // enum valet_cpl_attr
    public static final int CPL_UNSPEC = 0;
    /** u64: the request's cookie. */
    public static final int CPL_COOKIE = 1;
    /** s32: 0, or a negative errno (the request fails). */
    public static final int CPL_STATUS = 2;
    public static final int CPL_PAD = 3;
    public static final int CPL_MAX = 3;

    // enum valet_op
    public static final int OP_READ = 0;
    public static final int OP_WRITE = 1;
    public static final int OP_FLUSH = 2;

    /** {@code VALET_DATA_MMAP_OFFSET(index)}: where device {@code index}'s data area is in {@link #DATA_DEVICE}. */
    public static long dataMmapOffset(int index) {
        return (index & 0xffffffffL) << DATA_MMAP_SHIFT;
    }

    /** {@code VALET_TIER_MMAP_OFFSET(index)}: where device {@code index}'s tier area is in {@link #DATA_DEVICE}. */
    public static long tierMmapOffset(int index) {
        return dataMmapOffset(index) | 1L << TIER_MMAP_SHIFT;
    }
}
