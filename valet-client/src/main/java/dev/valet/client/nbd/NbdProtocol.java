package dev.valet.client.nbd;

/**
 * The numbers of the NBD protocol (the NetworkBlockDevice project's doc/proto.md) that this server speaks: the
 * fixed newstyle handshake, its options and replies, and the transmission phase's requests and simple replies.
 */
final class NbdProtocol {
    /** "NBDMAGIC", the first 8 bytes the server sends. */
    static final long NBD_MAGIC = 0x4e42444d41474943L;
    /** "IHAVEOPT": after NBDMAGIC in the greeting, and before each option the client sends. */
    static final long IHAVEOPT = 0x49484156454F5054L;
    /** Before each option reply. */
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;

    /** Handshake flags (server, 16 bits). */
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    /** Client flags (32 bits): the only ones defined; any other bit set ends the session. */
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;

    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_POLICY = 0x80000002;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_TLS_REQD = 0x80000005;

    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_DESCRIPTION = 2;
    static final int INFO_BLOCK_SIZE = 3;

    /** Transmission flags (16 bits). */
    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    static final int TFLAG_CAN_MULTI_CONN = 1 << 8;
    /** What this export offers: flush, FUA, trim, write zeroes, and several connections at once. */
    static final int TRANSMISSION_FLAGS = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
            | TFLAG_SEND_WRITE_ZEROES | TFLAG_CAN_MULTI_CONN;

    /** Command flags (16 bits). */
    static final int CMD_FLAG_FUA = 1;
    static final int CMD_FLAG_NO_HOLE = 1 << 1;
    /** The command flags this server accepts; a request with any other gets EINVAL. */
    static final int CMD_FLAGS_KNOWN = CMD_FLAG_FUA | CMD_FLAG_NO_HOLE;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;

    /** Errors in simple replies (Linux's numbers, as the protocol fixes them). */
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ESHUTDOWN = 108;

    /** Bytes of a request header and of a simple reply header. */
    static final int REQUEST_BYTES = 28;
    static final int REPLY_BYTES = 16;
    /** The engine's page: every offset and length must be a multiple of it. */
    static final int PAGE = 4096;

    private NbdProtocol() {
    }
}
