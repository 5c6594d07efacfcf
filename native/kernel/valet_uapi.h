/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Valet: the generic netlink interface between the valet block driver and
 * the valet-client daemon. This header is the contract: the driver includes
 * it, and the daemon's Java constants (dev.valet.client.kernel.ValetGenl) are
 * checked against it by a test.
 *
 * Control (daemon -> driver, CAP_SYS_ADMIN):
 *   ATTACH   become the daemon: the sender's port gets every I/O request.
 *            Held requests are re-sent to it at once.
 *   DETACH   stop being the daemon; requests are held (see HOLD_MS).
 *   CREATE   make /dev/valetN of SIZE bytes (and its areas); replies with
 *            INDEX.
 *   DESTROY  remove /dev/valetN (refused with EBUSY while it is open).
 *   STATUS   one reply per device (or for INDEX only), with STAT_* counters.
 *
 * Data path (since version 2: page data never rides in netlink messages):
 *   IO       driver -> daemon: one or more REQ (nested), each with COOKIE,
 *            OP, OFFSET, LENGTH and, for reads and writes, BUF: where the
 *            request's LENGTH bytes are in the device's data area. A write's
 *            data is there when IO is sent.
 *   DONE     daemon -> driver: one or more CPL (nested), each with COOKIE
 *            and STATUS (0 or -errno). A successful read's data must be in
 *            the data area at BUF before its CPL is sent. Only the attached
 *            daemon's port may send DONE.
 *
 * The data area: VALET_ATTR_DATA_BYTES of memory the driver allocates with
 * each device (CREATE) and frees with it, so it outlives any daemon: requests
 * held across a daemon restart keep their data there. The attached daemon
 * maps it from the character device VALET_DATA_DEVICE (read and write,
 * MAP_SHARED, offset VALET_DATA_MMAP_OFFSET(index), length at most
 * DATA_BYTES); any other process is refused (EPERM). The driver gives each
 * request a run of VALET_BLOCK_SIZE blocks of the area for as long as it is
 * out; a request that finds no room waits (its submitter sleeps, or, if it
 * may not, BLK_STS_RESOURCE) until a completion frees some. The area thus
 * bounds the bytes under writeback to the daemon.
 *
 * The tier area (version 3): VALET_ATTR_TIER_BYTES of memory (0: none) the
 * driver allocates, zeroed, with the device (CREATE) and frees only with it
 * (DESTROY, module unload). The driver never reads or writes it: it is the
 * daemon's own memory (its host tier of pages), kept by the driver so that it
 * survives the daemon (a SIGKILL included) and is never swapped out. The
 * attached daemon maps it from VALET_DATA_DEVICE as it maps the data area,
 * at VALET_TIER_MMAP_OFFSET(index), length at most TIER_BYTES; any other
 * process is refused (EPERM). A restarted daemon ATTACHes first (only the
 * attached daemon may map it: two daemons never share it), then maps it and
 * finds there what its predecessor left.
 *
 * The cookie is the request's blk-mq tag with a generation and the device:
 * a stale (earlier generation), unknown or second completion of a request is
 * refused and counted (STAT_REJECTED), and changes nothing.
 *
 * A daemon that dies (its socket closes) is detached: its in-flight requests
 * are held, not failed, and re-sent when a daemon attaches, until HOLD_MS
 * after they were first held; then they fail with an I/O error.
 *
 * Details of the messages:
 *   - Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM) and CAP_SYS_ADMIN.
 *   - ATTACH carries VERSION; a driver of another version refuses it
 *     (EPROTO, with a message naming its version).
 *   - CREATE carries SIZE and optionally QUEUE_DEPTH, HOLD_MS,
 *     IO_TIMEOUT_MS, DATA_BYTES and TIER_BYTES (a multiple of
 *     VALET_BLOCK_SIZE, at most VALET_MAX_TIER_BYTES; 0 or absent: no tier);
 *     its reply carries INDEX and SIZE.
 *   - STATUS has three forms: with INDEX, one reply for that device;
 *     without, one message per device and then the acknowledgment; with
 *     NLM_F_DUMP, a dump of every device. Each message carries INDEX, SIZE,
 *     QUEUE_DEPTH, HOLD_MS, IO_TIMEOUT_MS, DATA_BYTES, TIER_BYTES, ATTACHED
 *     and the STAT_* counters.
 *   - IO carries a top-level INDEX (the device) before its REQ nests; the
 *     COOKIE is opaque to the daemon and only echoed back in CPL.
 *   - CPL nests in DONE must have NLA_F_NESTED set.
 */
#ifndef _UAPI_LINUX_VALET_H
#define _UAPI_LINUX_VALET_H

#define VALET_GENL_NAME		"VALET"
#define VALET_GENL_VERSION	3

/* Largest single request the driver issues (max_hw_sectors), in bytes. */
#define VALET_MAX_IO_BYTES	(512 * 1024)
/* The driver's logical and physical block size. */
#define VALET_BLOCK_SIZE	4096

/* The data areas' character device, and where device INDEX's area is in it. */
#define VALET_DATA_DEVICE	"/dev/valet-data"
#define VALET_DATA_MMAP_SHIFT	40
#define VALET_DATA_MMAP_OFFSET(index) \
	((unsigned long long)(index) << VALET_DATA_MMAP_SHIFT)
/* Data area bounds and default (CREATE's DATA_BYTES), in bytes. */
#define VALET_MIN_DATA_BYTES	VALET_MAX_IO_BYTES
#define VALET_MAX_DATA_BYTES	(1024ULL * 1024 * 1024)
#define VALET_DEF_DATA_BYTES	(8 * 1024 * 1024)

/*
 * Where device INDEX's tier area is in VALET_DATA_DEVICE: half way into its
 * range, beyond the largest data area.
 */
#define VALET_TIER_MMAP_SHIFT	39
#define VALET_TIER_MMAP_OFFSET(index) \
	(VALET_DATA_MMAP_OFFSET(index) | (1ULL << VALET_TIER_MMAP_SHIFT))
/*
 * Tier area bound (CREATE's TIER_BYTES), in bytes: the daemon addresses the
 * tier as one Java buffer, whose indices are below 2^31.
 */
#define VALET_MAX_TIER_BYTES	(1024ULL * 1024 * 1024)

enum valet_cmd {
	VALET_CMD_UNSPEC,
	VALET_CMD_ATTACH,
	VALET_CMD_DETACH,
	VALET_CMD_CREATE,
	VALET_CMD_DESTROY,
	VALET_CMD_STATUS,
	VALET_CMD_IO,
	VALET_CMD_DONE,
	__VALET_CMD_MAX,
};

#define VALET_CMD_MAX (__VALET_CMD_MAX - 1)

enum valet_attr {
	VALET_ATTR_UNSPEC,
	VALET_ATTR_VERSION,		/* u32: VALET_GENL_VERSION, in ATTACH */
	VALET_ATTR_INDEX,		/* u32: N of /dev/valetN */
	VALET_ATTR_SIZE,		/* u64: device size in bytes */
	VALET_ATTR_QUEUE_DEPTH,		/* u32: tags per hardware queue */
	VALET_ATTR_HOLD_MS,		/* u32: how long requests wait for a daemon */
	VALET_ATTR_IO_TIMEOUT_MS,	/* u32: one request's timeout */
	VALET_ATTR_REQ,			/* nested valet_req_attr, repeated in IO */
	VALET_ATTR_CPL,			/* nested valet_cpl_attr, repeated in DONE */
	VALET_ATTR_ATTACHED,		/* u8: a daemon is attached */
	VALET_ATTR_STAT_INFLIGHT,	/* u32: sent to the daemon, not completed */
	VALET_ATTR_STAT_HELD,		/* u32: waiting for a daemon */
	VALET_ATTR_STAT_READS,		/* u64: read requests completed */
	VALET_ATTR_STAT_WRITES,		/* u64: write requests completed */
	VALET_ATTR_STAT_READ_BYTES,	/* u64 */
	VALET_ATTR_STAT_WRITE_BYTES,	/* u64 */
	VALET_ATTR_STAT_ERRORS,		/* u64: requests failed */
	VALET_ATTR_STAT_TIMEOUTS,	/* u64: request timeouts seen */
	VALET_ATTR_STAT_RESENT,		/* u64: requests re-sent after a re-attach */
	VALET_ATTR_STAT_REJECTED,	/* u64: completions refused (bad or stale cookie, sender) */
	VALET_ATTR_PAD,
	VALET_ATTR_DATA_BYTES,		/* u64: size of the device's data area */
	VALET_ATTR_STAT_BUSY,		/* u64: requests that waited for room in the data area */
	VALET_ATTR_STAT_MESSAGES,	/* u64: IO messages sent */
	VALET_ATTR_STAT_QUEUED_NS,	/* u64: sum over sends of ns from queue_rq to the unicast */
	VALET_ATTR_STAT_SERVED_NS,	/* u64: sum over DONEs of ns from the unicast to the DONE */
	VALET_ATTR_TIER_BYTES,		/* u64: size of the device's tier area, 0: none */
	__VALET_ATTR_MAX,
};

#define VALET_ATTR_MAX (__VALET_ATTR_MAX - 1)

enum valet_req_attr {
	VALET_REQ_UNSPEC,
	VALET_REQ_COOKIE,	/* u64: identifies the request until it completes */
	VALET_REQ_OP,		/* u8: enum valet_op */
	VALET_REQ_OFFSET,	/* u64: byte offset, a multiple of VALET_BLOCK_SIZE */
	VALET_REQ_LENGTH,	/* u32: bytes, a multiple of VALET_BLOCK_SIZE */
	VALET_REQ_BUF,		/* u32: byte offset of the data in the data area (reads, writes) */
	VALET_REQ_PAD,
	__VALET_REQ_MAX,
};

#define VALET_REQ_MAX (__VALET_REQ_MAX - 1)

enum valet_cpl_attr {
	VALET_CPL_UNSPEC,
	VALET_CPL_COOKIE,	/* u64: the request's cookie */
	VALET_CPL_STATUS,	/* s32: 0, or a negative errno (the request fails) */
	VALET_CPL_PAD,
	__VALET_CPL_MAX,
};

#define VALET_CPL_MAX (__VALET_CPL_MAX - 1)

enum valet_op {
	VALET_OP_READ,
	VALET_OP_WRITE,
	VALET_OP_FLUSH,
};

#endif /* _UAPI_LINUX_VALET_H */
