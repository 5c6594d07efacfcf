// SPDX-License-Identifier: GPL-2.0
/*
 * valet-nlprobe: talks to the valet driver's VALET generic netlink family
 * over a raw NETLINK_GENERIC socket (no libnl).
 *
 *   valet-nlprobe [probe] [--index N] [--drop-cap|--drop-all-caps] [-q]
 *	Sends malformed and unauthorised messages, as a process that is not
 *	the attached daemon, and checks that every one is refused with an
 *	error. Prints each case and its errno; exits 1 if any was accepted
 *	(or, with --drop-cap*, refused for another reason than EPERM).
 *	It never attaches while no daemon is, never destroys a device and
 *	never completes a request, so an attached daemon is not disturbed.
 *	--index N aims cookies at /dev/valetN (default: the first device).
 *	--drop-cap: the cases also run in a child without CAP_SYS_ADMIN
 *	(the driver's own check), --drop-all-caps without any capability
 *	(genetlink's GENL_ADMIN_PERM); there, well-formed commands are sent
 *	too, and for those only EPERM counts as refused.
 *
 *   valet-nlprobe status [INDEX]	STATUS of every device (a dump), or one
 *   valet-nlprobe create SIZE [--queue-depth N] [--hold-ms N]
 *		[--io-timeout-ms N] [--data-bytes SIZE] [--tier-bytes SIZE]
 *	CREATE; prints the new index
 *   valet-nlprobe destroy INDEX
 *   valet-nlprobe stall SECONDS
 *	Attaches as the daemon and never answers (an attached but hung
 *	daemon), for SECONDS or until killed; closing the socket detaches.
 *   valet-nlprobe daemon-probe INDEX
 *	Attaches as the daemon of /dev/valetINDEX (none may be attached),
 *	maps its data area, checks that another process may not, serves a
 *	read and a write issued by child processes through the area, and
 *	checks that completions with another generation, an unknown queue,
 *	no STATUS, or a second completion are refused and change nothing.
 *   valet-nlprobe tier-probe INDEX [--expect zero|SEED] [--fill SEED]
 *		[--hang]
 *	Checks that the tier area of /dev/valetINDEX may not be mapped before
 *	ATTACH, attaches as its daemon, maps the whole tier (a longer mapping
 *	and another process are refused), checks that it holds zeros or the
 *	pattern of SEED (--expect), fills it with the pattern of SEED (--fill),
 *	 then detaches; with --hang it prints "tier-probe: ready" and waits to
 *	be killed instead, still attached and mapping it.
 *
 * Exit status: 0 success, 1 a check failed or a command was refused,
 * 2 usage or set-up error (no VALET family: valet.ko not loaded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "valet_uapi.h"

#define BUF_SIZE	(256 * 1024)
#define MAX_NEST	8
#define MAX_DEVICES	64
#define COOKIE_SHIFT	48	/* the driver's cookie: device index on top */

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

struct msg {
	unsigned char *data;
	size_t len;
	size_t nest[MAX_NEST];
	int depth;
};

struct device {
	uint32_t index;
	uint64_t size;
	bool attached;
	uint64_t rejected;
	uint64_t data_bytes;
	uint64_t tier_bytes;
};

struct conn {
	int fd;
	uint16_t family;
	uint32_t seq;
	unsigned char *rbuf;
	char errmsg[256];		/* extack message of the last error */
	struct device dev[MAX_DEVICES];
	int ndev;
};

static bool quiet;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("valet-nlprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ---------------------------------------------------------------- */
/* Building messages                                                 */
/* ---------------------------------------------------------------- */

static void *msg_room(struct msg *m, size_t len)
{
	size_t at = m->len;

	if (NLMSG_ALIGN(at + len) > BUF_SIZE)
		die("message buffer overflow");
	memset(m->data + at, 0, NLMSG_ALIGN(len));
	m->len = at + NLMSG_ALIGN(len);
	return m->data + at;
}

static void msg_begin_raw(struct msg *m, uint16_t type, uint16_t flags,
			  uint8_t cmd, uint16_t reserved)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	m->len = 0;
	m->depth = 0;
	nlh = msg_room(m, sizeof(*nlh));
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	g = msg_room(m, sizeof(*g));
	g->cmd = cmd;
	g->version = VALET_GENL_VERSION;
	g->reserved = reserved;
}

static void msg_begin(struct msg *m, struct conn *c, uint8_t cmd)
{
	msg_begin_raw(m, c->family, NLM_F_REQUEST | NLM_F_ACK, cmd, 0);
}

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	struct nlattr *a = msg_room(m, NLA_HDRLEN + len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((unsigned char *)a + NLA_HDRLEN, data, len);
}

static void put_u8(struct msg *m, uint16_t type, uint8_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_s32(struct msg *m, uint16_t type, int32_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_u64(struct msg *m, uint16_t type, uint64_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_zeros(struct msg *m, uint16_t type, size_t len)
{
	struct nlattr *a = msg_room(m, NLA_HDRLEN + len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
}

static void nest_begin(struct msg *m, uint16_t type, bool flag)
{
	struct nlattr *a;

	if (m->depth == MAX_NEST)
		die("nesting too deep");
	m->nest[m->depth++] = m->len;
	a = msg_room(m, NLA_HDRLEN);
	a->nla_type = type | (flag ? NLA_F_NESTED : 0);
}

static void nest_end(struct msg *m)
{
	size_t at = m->nest[--m->depth];
	struct nlattr *a = (struct nlattr *)(m->data + at);

	a->nla_len = (uint16_t)(m->len - at);
}

/* Raw bytes, not aligned: for messages that are malformed on purpose. */
static void put_raw(struct msg *m, const void *data, size_t len)
{
	if (m->len + len > BUF_SIZE)
		die("message buffer overflow");
	memcpy(m->data + m->len, data, len);
	m->len += len;
}

static void msg_end(struct msg *m)
{
	((struct nlmsghdr *)m->data)->nlmsg_len = (uint32_t)m->len;
}

/* ---------------------------------------------------------------- */
/* Talking to the kernel                                             */
/* ---------------------------------------------------------------- */

static void conn_open(struct conn *c)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 10 };
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (c->fd < 0)
		die("socket(AF_NETLINK, NETLINK_GENERIC): %s", strerror(errno));
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind: %s", strerror(errno));
	setsockopt(c->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(c->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->rbuf = malloc(BUF_SIZE);
	if (!c->rbuf)
		die("out of memory");
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->rbuf);
}

static void parse_attrs(const void *head, int len, const struct nlattr **tb,
			int max)
{
	const struct nlattr *a = head;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = a;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    NLA_ALIGN(a->nla_len));
	}
}

static const void *nla_payload(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static uint64_t get_uint(const struct nlattr *a)
{
	uint64_t v = 0;
	size_t len = a->nla_len - NLA_HDRLEN;

	if (len == 1)
		v = *(const uint8_t *)nla_payload(a);
	else if (len == 2)
		v = *(const uint16_t *)nla_payload(a);
	else if (len == 4)
		v = *(const uint32_t *)nla_payload(a);
	else if (len == 8)
		memcpy(&v, nla_payload(a), sizeof(v));
	return v;
}

static void ack_message(struct conn *c, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);

	c->errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return;
	parse_attrs((const char *)e + off, nlh->nlmsg_len - NLMSG_HDRLEN - off,
		    tb, NLMSGERR_ATTR_MAX);
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(c->errmsg, sizeof(c->errmsg), "%.*s",
			 (int)(tb[NLMSGERR_ATTR_MSG]->nla_len - NLA_HDRLEN),
			 (const char *)nla_payload(tb[NLMSGERR_ATTR_MSG]));
}

typedef void (*reply_fn)(struct conn *c, const struct nlmsghdr *nlh);

/*
 * Sends @m and reads until its acknowledgment (or NLMSG_DONE): returns 0
 * when the kernel accepted it, else the positive errno. Replies with the
 * same sequence number go to @fn. -1: no answer.
 */
static int transact(struct conn *c, struct msg *m, reply_fn fn)
{
	struct nlmsghdr *req = (struct nlmsghdr *)m->data;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint32_t seq = ++c->seq;

	req->nlmsg_seq = seq;
	req->nlmsg_pid = 0;
	c->errmsg[0] = '\0';
	if (sendto(c->fd, m->data, m->len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return errno;
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, BUF_SIZE, 0);
		struct nlmsghdr *nlh;

		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			return -1;
		}
		for (nlh = (struct nlmsghdr *)c->rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* IO for a daemon, or stale */
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				ack_message(c, nlh);
				return -e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
				return -err;
			}
			if (fn)
				fn(c, nlh);
		}
	}
}

static void family_reply(struct conn *c, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];

	parse_attrs((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb, CTRL_ATTR_MAX);
	if (tb[CTRL_ATTR_FAMILY_ID])
		c->family = (uint16_t)get_uint(tb[CTRL_ATTR_FAMILY_ID]);
}

static void resolve_family(struct conn *c, struct msg *m)
{
	int err;

	msg_begin_raw(m, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK,
		      CTRL_CMD_GETFAMILY, 0);
	((struct genlmsghdr *)(m->data + NLMSG_HDRLEN))->version = 1;
	put_attr(m, CTRL_ATTR_FAMILY_NAME, VALET_GENL_NAME,
		 sizeof(VALET_GENL_NAME));
	msg_end(m);
	err = transact(c, m, family_reply);
	if (err == ENOENT)
		die("no %s generic netlink family: is valet.ko loaded?",
		    VALET_GENL_NAME);
	if (err || !c->family)
		die("resolving %s: %s", VALET_GENL_NAME,
		    err > 0 ? strerror(err) : "no answer");
}

static void status_reply(struct conn *c, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[VALET_ATTR_MAX + 1];
	struct device *d;

	if (nlh->nlmsg_type != c->family || c->ndev == MAX_DEVICES)
		return;
	parse_attrs((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb, VALET_ATTR_MAX);
	if (!tb[VALET_ATTR_INDEX])
		return;
	d = &c->dev[c->ndev++];
	d->index = (uint32_t)get_uint(tb[VALET_ATTR_INDEX]);
	d->size = tb[VALET_ATTR_SIZE] ? get_uint(tb[VALET_ATTR_SIZE]) : 0;
	d->attached = tb[VALET_ATTR_ATTACHED] &&
		      get_uint(tb[VALET_ATTR_ATTACHED]);
	d->rejected = tb[VALET_ATTR_STAT_REJECTED] ?
		      get_uint(tb[VALET_ATTR_STAT_REJECTED]) : 0;
	d->data_bytes = tb[VALET_ATTR_DATA_BYTES] ?
			get_uint(tb[VALET_ATTR_DATA_BYTES]) : 0;
	d->tier_bytes = tb[VALET_ATTR_TIER_BYTES] ?
			get_uint(tb[VALET_ATTR_TIER_BYTES]) : 0;
	if (quiet)
		return;
	printf("valet%u:", d->index);
	for (int t = VALET_ATTR_SIZE; t <= VALET_ATTR_MAX; t++) {
		static const char *const names[] = {
			[VALET_ATTR_SIZE] = "size",
			[VALET_ATTR_QUEUE_DEPTH] = "queue_depth",
			[VALET_ATTR_HOLD_MS] = "hold_ms",
			[VALET_ATTR_IO_TIMEOUT_MS] = "io_timeout_ms",
			[VALET_ATTR_ATTACHED] = "attached",
			[VALET_ATTR_STAT_INFLIGHT] = "inflight",
			[VALET_ATTR_STAT_HELD] = "held",
			[VALET_ATTR_STAT_READS] = "reads",
			[VALET_ATTR_STAT_WRITES] = "writes",
			[VALET_ATTR_STAT_READ_BYTES] = "read_bytes",
			[VALET_ATTR_STAT_WRITE_BYTES] = "write_bytes",
			[VALET_ATTR_STAT_ERRORS] = "errors",
			[VALET_ATTR_STAT_TIMEOUTS] = "timeouts",
			[VALET_ATTR_STAT_RESENT] = "resent",
			[VALET_ATTR_STAT_REJECTED] = "rejected",
			[VALET_ATTR_DATA_BYTES] = "data_bytes",
			[VALET_ATTR_STAT_BUSY] = "busy",
			[VALET_ATTR_STAT_MESSAGES] = "messages",
			[VALET_ATTR_STAT_QUEUED_NS] = "queued_ns",
			[VALET_ATTR_STAT_SERVED_NS] = "served_ns",
			[VALET_ATTR_TIER_BYTES] = "tier_bytes",
		};

		if (tb[t] && names[t])
			printf(" %s=%llu", names[t], (unsigned long long)get_uint(tb[t]));
	}
	printf("\n");
}

/* STATUS of every device, as a dump; fills c->dev. Returns the errno. */
static int get_status(struct conn *c, struct msg *m)
{
	c->ndev = 0;
	msg_begin_raw(m, c->family, NLM_F_REQUEST | NLM_F_DUMP,
		      VALET_CMD_STATUS, 0);
	msg_end(m);
	return transact(c, m, status_reply);
}

/* ---------------------------------------------------------------- */
/* The hostile cases                                                 */
/* ---------------------------------------------------------------- */

struct ctx {
	struct conn *c;
	uint32_t index;		/* device the cookies point at */
	bool daemon_attached;
	bool unprivileged;	/* in the child without capabilities */
};

struct probe {
	const char *name;
	int expect;		/* errno the driver should answer */
	/* Builds the message; false: skip this case (and say why). */
	bool (*build)(struct ctx *x, struct msg *m, const char **why);
	bool unprivileged_only;	/* well-formed: only sent without them */
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PROBE(n, e, b)	{ .name = (n), .expect = (e), .build = (b) }
#define UNPRIV(n, b)	{ .name = (n), .expect = EPERM, .build = (b), \
			  .unprivileged_only = true }

static uint64_t rand48(void)
{
	return (((uint64_t)random() << 24) ^ (uint64_t)random()) &
	       ((1ULL << COOKIE_SHIFT) - 1);
}

static uint64_t random_cookie(struct ctx *x)
{
	return ((uint64_t)x->index << COOKIE_SHIFT) | rand48();
}

static void cpl(struct msg *m, uint64_t cookie, int32_t status)
{
	nest_begin(m, VALET_ATTR_CPL, true);
	put_u64(m, VALET_CPL_COOKIE, cookie);
	put_s32(m, VALET_CPL_STATUS, status);
	nest_end(m);
}

static bool b_done_random(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	cpl(m, random_cookie(x), 0);
	return true;
}

static bool b_done_random16(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	for (int i = 0; i < 16; i++)
		cpl(m, random_cookie(x), i & 1 ? -5 : 0);
	return true;
}

static bool b_done_bad_queue(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	cpl(m, ((uint64_t)x->index << COOKIE_SHIFT) | 0xffff0000ULL, 0);
	return true;
}

static bool b_done_status_pos(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	cpl(m, random_cookie(x), 5);
	return true;
}

static bool b_done_status_low(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	cpl(m, random_cookie(x), -5000);
	return true;
}

static bool b_done_no_status(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_u64(m, VALET_CPL_COOKIE, random_cookie(x));
	nest_end(m);
	return true;
}

static bool b_done_no_cookie(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_s32(m, VALET_CPL_STATUS, 0);
	nest_end(m);
	return true;
}

static bool b_done_empty(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	return true;
}

static bool b_done_not_nested(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, false);
	put_u64(m, VALET_CPL_COOKIE, random_cookie(x));
	put_s32(m, VALET_CPL_STATUS, 0);
	nest_end(m);
	return true;
}

static bool b_done_inner_overrun(struct ctx *x, struct msg *m,
				 const char **why)
{
	struct nlattr bad = { .nla_len = 200, .nla_type = VALET_CPL_COOKIE };
	uint64_t cookie = random_cookie(x);

	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_s32(m, VALET_CPL_STATUS, 0);
	put_raw(m, &bad, sizeof(bad));
	put_raw(m, &cookie, sizeof(cookie));
	nest_end(m);
	return true;
}

static bool b_done_inner_unknown(struct ctx *x, struct msg *m,
				 const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_u64(m, VALET_CPL_COOKIE, random_cookie(x));
	put_s32(m, VALET_CPL_STATUS, 0);
	put_u32(m, VALET_CPL_MAX + 5, 1);
	nest_end(m);
	return true;
}

static bool b_done_inner_type0(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_u64(m, VALET_CPL_COOKIE, random_cookie(x));
	put_s32(m, VALET_CPL_STATUS, 0);
	put_u32(m, 0, 1);
	nest_end(m);
	return true;
}

static bool b_done_cookie_u32(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_u32(m, VALET_CPL_COOKIE, (uint32_t)random_cookie(x));
	put_s32(m, VALET_CPL_STATUS, 0);
	nest_end(m);
	return true;
}

static bool b_done_with_req(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DONE);
	cpl(m, random_cookie(x), 0);
	nest_begin(m, VALET_ATTR_REQ, true);
	put_u64(m, VALET_REQ_COOKIE, random_cookie(x));
	nest_end(m);
	return true;
}

static bool b_done_dump(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin_raw(m, x->c->family, NLM_F_REQUEST | NLM_F_DUMP,
		      VALET_CMD_DONE, 0);
	cpl(m, random_cookie(x), 0);
	return true;
}

static bool b_io_from_user(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_IO);
	put_u32(m, VALET_ATTR_INDEX, x->index);
	nest_begin(m, VALET_ATTR_REQ, true);
	put_u64(m, VALET_REQ_COOKIE, random_cookie(x));
	put_u8(m, VALET_REQ_OP, VALET_OP_WRITE);
	put_u64(m, VALET_REQ_OFFSET, 0);
	put_u32(m, VALET_REQ_LENGTH, VALET_BLOCK_SIZE);
	put_u32(m, VALET_REQ_BUF, 0);
	nest_end(m);
	return true;
}

static void create_size(struct ctx *x, struct msg *m, uint64_t size)
{
	msg_begin(m, x->c, VALET_CMD_CREATE);
	put_u64(m, VALET_ATTR_SIZE, size);
}

static bool b_create_area_small(struct ctx *x, struct msg *m,
				const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u64(m, VALET_ATTR_DATA_BYTES, VALET_MIN_DATA_BYTES - 4096);
	return true;
}

static bool b_create_area_huge(struct ctx *x, struct msg *m,
			       const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u64(m, VALET_ATTR_DATA_BYTES, VALET_MAX_DATA_BYTES * 2);
	return true;
}

static bool b_create_area_unaligned(struct ctx *x, struct msg *m,
				    const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u64(m, VALET_ATTR_DATA_BYTES, VALET_MIN_DATA_BYTES + 512);
	return true;
}

static bool b_create_tier_huge(struct ctx *x, struct msg *m,
			       const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u64(m, VALET_ATTR_TIER_BYTES, VALET_MAX_TIER_BYTES * 2);
	return true;
}

static bool b_create_tier_unaligned(struct ctx *x, struct msg *m,
				    const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u64(m, VALET_ATTR_TIER_BYTES, (1ULL << 20) + 512);
	return true;
}

static bool b_create_tier_u32(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u32(m, VALET_ATTR_TIER_BYTES, 1 << 20);
	return true;
}

static bool b_create_size0(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 0);
	return true;
}

static bool b_create_unaligned(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, (64ULL << 20) + 512);
	return true;
}

static bool b_create_huge(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 1ULL << 62);
	return true;
}

static bool b_create_no_size(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_CREATE);
	put_u32(m, VALET_ATTR_QUEUE_DEPTH, 64);
	return true;
}

static bool b_create_size_u32(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_CREATE);
	put_u32(m, VALET_ATTR_SIZE, 64 << 20);
	return true;
}

static bool b_create_depth0(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u32(m, VALET_ATTR_QUEUE_DEPTH, 0);
	return true;
}

static bool b_create_depth_huge(struct ctx *x, struct msg *m,
				const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u32(m, VALET_ATTR_QUEUE_DEPTH, 1 << 20);
	return true;
}

static bool b_create_tmo_small(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u32(m, VALET_ATTR_IO_TIMEOUT_MS, 10);
	return true;
}

static bool b_create_unknown(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u32(m, 200, 1);
	return true;
}

static bool b_create_type0(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u32(m, 0, 1);
	return true;
}

static bool b_create_stat(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	put_u64(m, VALET_ATTR_STAT_READS, 1);
	return true;
}

static bool b_create_trailing(struct ctx *x, struct msg *m, const char **why)
{
	static const unsigned char junk[3] = { 0xde, 0xad, 0xbe };

	create_size(x, m, 64ULL << 20);
	put_raw(m, junk, sizeof(junk));
	return true;
}

static bool b_create_overrun(struct ctx *x, struct msg *m, const char **why)
{
	struct nlattr bad = { .nla_len = 4000, .nla_type = VALET_ATTR_SIZE };
	uint64_t size = 64ULL << 20;

	msg_begin(m, x->c, VALET_CMD_CREATE);
	put_raw(m, &bad, sizeof(bad));
	put_raw(m, &size, sizeof(size));
	return true;
}

static bool b_create_oversize(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_CREATE);
	put_zeros(m, VALET_ATTR_SIZE, 65000);
	return true;
}

static bool b_create_nested(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_CREATE);
	nest_begin(m, VALET_ATTR_SIZE, true);
	put_u64(m, 1, 64ULL << 20);
	nest_end(m);
	return true;
}

static bool b_destroy_no_index(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DESTROY);
	return true;
}

static bool b_destroy_missing(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DESTROY);
	put_u32(m, VALET_ATTR_INDEX, 65535);
	return true;
}

static bool b_status_missing(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_STATUS);
	put_u32(m, VALET_ATTR_INDEX, 65535);
	return true;
}

static bool b_attach_other_version(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_ATTACH);
	put_u32(m, VALET_ATTR_VERSION, VALET_GENL_VERSION + 1);
	return true;
}

/* A daemon of the version before: refused, so it cannot miss the tier. */
static bool b_attach_old_version(struct ctx *x, struct msg *m,
				 const char **why)
{
	msg_begin(m, x->c, VALET_CMD_ATTACH);
	put_u32(m, VALET_ATTR_VERSION, VALET_GENL_VERSION - 1);
	return true;
}

static bool b_attach_no_version(struct ctx *x, struct msg *m,
				const char **why)
{
	msg_begin(m, x->c, VALET_CMD_ATTACH);
	return true;
}

static bool b_attach_version_u8(struct ctx *x, struct msg *m,
				const char **why)
{
	msg_begin(m, x->c, VALET_CMD_ATTACH);
	put_u8(m, VALET_ATTR_VERSION, VALET_GENL_VERSION);
	return true;
}

static bool b_attach_second(struct ctx *x, struct msg *m, const char **why)
{
	if (!x->daemon_attached && !x->unprivileged) {
		*why = "no daemon attached: this ATTACH would succeed";
		return false;
	}
	msg_begin(m, x->c, VALET_CMD_ATTACH);
	put_u32(m, VALET_ATTR_VERSION, VALET_GENL_VERSION);
	return true;
}

static bool b_detach(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DETACH);
	return true;
}

static bool b_detach_attr(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_DETACH);
	put_u32(m, VALET_ATTR_INDEX, x->index);
	return true;
}

static bool b_unknown_cmd(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, 99);
	return true;
}

static bool b_cmd_unspec(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_UNSPEC);
	return true;
}

static bool b_reserved(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin_raw(m, x->c->family, NLM_F_REQUEST | NLM_F_ACK,
		      VALET_CMD_STATUS, 1);
	return true;
}

static bool b_nlmsg_flags(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin_raw(m, x->c->family,
		      NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE,
		      VALET_CMD_STATUS, 0);
	return true;
}

static bool b_short_header(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_STATUS);
	m->len = NLMSG_HDRLEN + 2;	/* half a genlmsghdr */
	return true;
}

/* Well-formed commands: refused only for lack of privilege. */
static bool b_ok_status(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin(m, x->c, VALET_CMD_STATUS);
	put_u32(m, VALET_ATTR_INDEX, x->index);
	return true;
}

static bool b_ok_status_dump(struct ctx *x, struct msg *m, const char **why)
{
	msg_begin_raw(m, x->c->family, NLM_F_REQUEST | NLM_F_DUMP,
		      VALET_CMD_STATUS, 0);
	return true;
}

static bool b_ok_create(struct ctx *x, struct msg *m, const char **why)
{
	create_size(x, m, 64ULL << 20);
	return true;
}

static bool b_ok_destroy(struct ctx *x, struct msg *m, const char **why)
{
	/* A device that does not exist: refused either way, but EPERM first. */
	msg_begin(m, x->c, VALET_CMD_DESTROY);
	put_u32(m, VALET_ATTR_INDEX, 65535);
	return true;
}

static const struct probe probes[] = {
	PROBE("done-random-cookie", EPERM, b_done_random),
	PROBE("done-16-random-cookies", EPERM, b_done_random16),
	PROBE("done-cookie-no-such-queue", EPERM, b_done_bad_queue),
	PROBE("done-status-positive", ERANGE, b_done_status_pos),
	PROBE("done-status-below-errno", ERANGE, b_done_status_low),
	PROBE("done-cpl-without-status", EINVAL, b_done_no_status),
	PROBE("done-cpl-without-cookie", EINVAL, b_done_no_cookie),
	PROBE("done-without-cpl", EINVAL, b_done_empty),
	PROBE("done-cpl-not-nested", EINVAL, b_done_not_nested),
	PROBE("done-cpl-inner-overrun", EINVAL, b_done_inner_overrun),
	PROBE("done-cpl-inner-unknown-type", EINVAL, b_done_inner_unknown),
	PROBE("done-cpl-inner-type-0", EINVAL, b_done_inner_type0),
	PROBE("done-cookie-as-u32", EINVAL, b_done_cookie_u32),
	PROBE("done-with-req-attribute", EINVAL, b_done_with_req),
	PROBE("done-as-dump", EOPNOTSUPP, b_done_dump),
	PROBE("io-command-from-user-space", EOPNOTSUPP, b_io_from_user),
	PROBE("create-data-area-too-small", ERANGE, b_create_area_small),
	PROBE("create-data-area-too-large", ERANGE, b_create_area_huge),
	PROBE("create-data-area-unaligned", EINVAL, b_create_area_unaligned),
	PROBE("create-tier-area-too-large", ERANGE, b_create_tier_huge),
	PROBE("create-tier-area-unaligned", EINVAL, b_create_tier_unaligned),
	PROBE("create-tier-bytes-as-u32", EINVAL, b_create_tier_u32),
	PROBE("create-size-0", ERANGE, b_create_size0),
	PROBE("create-size-unaligned", EINVAL, b_create_unaligned),
	PROBE("create-size-huge", ERANGE, b_create_huge),
	PROBE("create-without-size", EINVAL, b_create_no_size),
	PROBE("create-size-as-u32", EINVAL, b_create_size_u32),
	PROBE("create-queue-depth-0", ERANGE, b_create_depth0),
	PROBE("create-queue-depth-huge", ERANGE, b_create_depth_huge),
	PROBE("create-io-timeout-10ms", ERANGE, b_create_tmo_small),
	PROBE("create-unknown-attribute", EINVAL, b_create_unknown),
	PROBE("create-attribute-type-0", EINVAL, b_create_type0),
	PROBE("create-with-stat-attribute", EINVAL, b_create_stat),
	PROBE("create-trailing-garbage", EINVAL, b_create_trailing),
	PROBE("create-attribute-overruns", EINVAL, b_create_overrun),
	PROBE("create-oversize-attribute", EINVAL, b_create_oversize),
	PROBE("create-size-nested", EINVAL, b_create_nested),
	PROBE("destroy-without-index", EINVAL, b_destroy_no_index),
	PROBE("destroy-no-such-device", ENODEV, b_destroy_missing),
	PROBE("status-no-such-device", ENODEV, b_status_missing),
	PROBE("attach-other-version", EPROTO, b_attach_other_version),
	PROBE("attach-old-version", EPROTO, b_attach_old_version),
	PROBE("attach-without-version", EINVAL, b_attach_no_version),
	PROBE("attach-version-as-u8", EINVAL, b_attach_version_u8),
	PROBE("attach-while-attached", EBUSY, b_attach_second),
	PROBE("detach-not-the-daemon", EPERM, b_detach),
	PROBE("detach-with-attribute", EINVAL, b_detach_attr),
	PROBE("unknown-command-99", EOPNOTSUPP, b_unknown_cmd),
	PROBE("command-0-unspec", EOPNOTSUPP, b_cmd_unspec),
	PROBE("genl-reserved-not-zero", EINVAL, b_reserved),
	PROBE("nlmsg-flags-reserved", EINVAL, b_nlmsg_flags),
	PROBE("genl-header-truncated", EINVAL, b_short_header),
	UNPRIV("unprivileged-status", b_ok_status),
	UNPRIV("unprivileged-status-dump", b_ok_status_dump),
	UNPRIV("unprivileged-create", b_ok_create),
	UNPRIV("unprivileged-destroy", b_ok_destroy),
};

static const char *errname(int err)
{
	switch (err) {
	case 0: return "accepted";
	case -1: return "no-answer";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case EBUSY: return "EBUSY";
	case ENODEV: return "ENODEV";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOBUFS: return "ENOBUFS";
	case EPROTO: return "EPROTO";
	default: return strerror(err);
	}
}

/*
 * Cleans up after a case the driver wrongly accepted: a device it created
 * (the last STATUS shows which existed before), an ATTACH it took.
 */
static void undo(struct ctx *x, struct msg *m, const struct probe *p,
		 const struct device *before, int nbefore, bool devices)
{
	struct conn *c = x->c;
	int i, j;

	if (devices || strncmp(p->name, "create", 6) == 0 ||
	    p->build == b_ok_create) {
		if (get_status(c, m))
			return;
		for (i = 0; i < c->ndev; i++) {
			for (j = 0; j < nbefore; j++)
				if (before[j].index == c->dev[i].index)
					break;
			if (j < nbefore)
				continue;
			msg_begin(m, c, VALET_CMD_DESTROY);
			put_u32(m, VALET_ATTR_INDEX, c->dev[i].index);
			msg_end(m);
			fprintf(stderr, "  cleanup: DESTROY new valet%u: %s\n",
				c->dev[i].index, errname(transact(c, m, NULL)));
		}
	}
	if (!devices && strncmp(p->name, "attach", 6) == 0) {
		msg_begin(m, c, VALET_CMD_DETACH);
		msg_end(m);
		fprintf(stderr, "  cleanup: DETACH: %s\n",
			errname(transact(c, m, NULL)));
	}
}

/* Runs every case; returns how many failed (accepted, or wrong refusal). */
static int run_probes(struct ctx *x, struct msg *m)
{
	struct device before[MAX_DEVICES];
	int nbefore = x->c->ndev, failed = 0, ran = 0, skipped = 0;
	size_t i;

	memcpy(before, x->c->dev, sizeof(before));
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		const struct probe *p = &probes[i];
		const char *why = NULL, *verdict;
		/* Without privilege, malformed messages may still fail their
		 * policy first (genetlink parses before the driver's
		 * CAP_SYS_ADMIN check); only well-formed ones must get EPERM.
		 */
		int expect = x->unprivileged && p->unprivileged_only ? EPERM :
			     p->expect;
		int err;

		if (p->unprivileged_only && !x->unprivileged)
			continue;
		if (!p->build(x, m, &why)) {
			printf("  skip %-30s %s\n", p->name, why);
			skipped++;
			continue;
		}
		msg_end(m);
		err = transact(x->c, m, NULL);
		ran++;
		if (err == 0 || err == -1) {
			verdict = "FAIL";
			failed++;
		} else if (p->unprivileged_only && err != EPERM) {
			verdict = "FAIL";	/* refused, but not for privilege */
			failed++;
		} else {
			verdict = "ok  ";
		}
		printf("  %s %-30s %-10s", verdict, p->name, errname(err));
		if (err > 0 && err != expect && !(x->unprivileged && err == EPERM))
			printf(" (expected %s)", errname(expect));
		if (x->c->errmsg[0])
			printf(" \"%s\"", x->c->errmsg);
		printf("\n");
		if (err == 0 && !x->unprivileged)
			undo(x, m, p, before, nbefore, false);
	}
	printf("  %d cases: %d refused, %d FAILED, %d skipped\n", ran,
	       ran - failed, failed, skipped);
	return failed;
}

static void drop_caps(bool all)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int i;

	if (syscall(SYS_capget, &hdr, data) < 0)
		die("capget: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		if (all) {
			data[i].effective = 0;
			data[i].permitted = 0;
			data[i].inheritable = 0;
		} else if (i == CAP_TO_INDEX(CAP_SYS_ADMIN)) {
			data[i].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
			data[i].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
			data[i].inheritable &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
		}
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset: %s", strerror(errno));
}

/* Maps @bytes of VALET_DATA_DEVICE at @offset; NULL and *err on failure. */
static void *map_at(uint64_t offset, uint64_t bytes, int *err)
{
	int fd = open(VALET_DATA_DEVICE, O_RDWR | O_CLOEXEC);
	void *p;

	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)offset);
	*err = p == MAP_FAILED ? errno : 0;
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Maps @bytes of device @index's data area; NULL and *err on failure. */
static void *map_area(uint32_t index, uint64_t bytes, int *err)
{
	return map_at(VALET_DATA_MMAP_OFFSET(index), bytes, err);
}

/* Maps @bytes of device @index's tier area; NULL and *err on failure. */
static void *map_tier(uint32_t index, uint64_t bytes, int *err)
{
	return map_at(VALET_TIER_MMAP_OFFSET(index), bytes, err);
}

/* A mapping a process that is not the daemon must not get: EPERM. */
static int probe_refused_map(const char *name, uint64_t offset)
{
	int err;
	void *p = map_at(offset, VALET_BLOCK_SIZE, &err);

	if (p) {
		munmap(p, VALET_BLOCK_SIZE);
		printf("  FAIL %-30s accepted\n", name);
		return 1;
	}
	printf("  %s %-30s %s\n", err == EPERM ? "ok  " : "FAIL", name,
	       errname(err));
	return err == EPERM ? 0 : 1;
}

/* A process that is not the daemon must not map a data or tier area. */
static int probe_mapping(struct ctx *x)
{
	return probe_refused_map("data-mmap-not-the-daemon",
				 VALET_DATA_MMAP_OFFSET(x->index)) +
	       probe_refused_map("tier-mmap-not-the-daemon",
				 VALET_TIER_MMAP_OFFSET(x->index));
}

static int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "index", required_argument, NULL, 'i' },
		{ "drop-cap", no_argument, NULL, 'd' },
		{ "drop-all-caps", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct msg m = { .data = malloc(BUF_SIZE) };
	struct ctx x = { 0 };
	long index = -1;
	int drop = 0, failed, o, err, i;
	uint64_t rejected0 = 0;
	struct conn c;

	while ((o = getopt_long(argc, argv, "i:q", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			index = strtol(optarg, NULL, 0);
			break;
		case 'd':
			drop = 1;
			break;
		case 'a':
			drop = 2;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return 2;
		}
	}
	if (!m.data)
		die("out of memory");
	srandom((unsigned int)(time(NULL) ^ getpid()));

	conn_open(&c);
	resolve_family(&c, &m);
	x.c = &c;
	err = get_status(&c, &m);
	if (err)
		die("STATUS: %s (%s): run as root", errname(err), c.errmsg);
	x.index = index >= 0 ? (uint32_t)index : c.ndev ? c.dev[0].index : 0;
	for (i = 0; i < c.ndev; i++) {
		x.daemon_attached |= c.dev[i].attached;
		if (c.dev[i].index == x.index)
			rejected0 = c.dev[i].rejected;
	}
	printf("valet-nlprobe: family %s id %u, %d device(s), daemon %s, cookies at valet%u\n",
	       VALET_GENL_NAME, c.family, c.ndev,
	       x.daemon_attached ? "attached" : "not attached (or no device)",
	       x.index);

	printf("with capabilities (pid %d):\n", getpid());
	failed = run_probes(&x, &m);
	failed += probe_mapping(&x);

	if (drop) {
		struct device before[MAX_DEVICES];
		int nbefore = c.ndev, status;
		pid_t pid;

		memcpy(before, c.dev, sizeof(before));
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			struct conn uc;

			drop_caps(drop == 2);
			conn_open(&uc);
			uc.family = c.family;
			x.c = &uc;
			x.unprivileged = true;
			printf("without %s (pid %d):\n",
			       drop == 2 ? "any capability" : "CAP_SYS_ADMIN",
			       getpid());
			_exit(run_probes(&x, &m) ? 1 : 0);
		}
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid: %s", strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
		/* A CREATE the child got accepted: undo it with our privileges. */
		undo(&x, &m, &probes[0], before, nbefore, true);
	}

	if (!get_status(&c, &m)) {
		for (i = 0; i < c.ndev; i++)
			if (c.dev[i].index == x.index)
				printf("valet%u: STAT_REJECTED %llu -> %llu\n", x.index,
				       (unsigned long long)rejected0,
				       (unsigned long long)c.dev[i].rejected);
	}
	printf("valet-nlprobe: %s\n",
	       failed ? "FAILED: the driver accepted (or misjudged) a case above" :
	       "every case was refused");
	conn_close(&c);
	free(m.data);
	return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- */
/* Control commands                                                  */
/* ---------------------------------------------------------------- */

static int report(struct conn *c, const char *what, int err)
{
	if (!err)
		return 0;
	fprintf(stderr, "valet-nlprobe: %s: %s%s%s%s\n", what, errname(err),
		c->errmsg[0] ? " (" : "", c->errmsg, c->errmsg[0] ? ")" : "");
	return 1;
}

static void create_reply(struct conn *c, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[VALET_ATTR_MAX + 1];

	parse_attrs((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), tb, VALET_ATTR_MAX);
	if (tb[VALET_ATTR_INDEX])
		printf("%llu\n", (unsigned long long)get_uint(tb[VALET_ATTR_INDEX]));
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K':
		return v << 10;
	case 'm': case 'M':
		return v << 20;
	case 'g': case 'G':
		return v << 30;
	case '\0':
		return v;
	default:
		die("bad size '%s'", s);
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The daemon's side: data area and cookies (daemon-probe)           */
/* ---------------------------------------------------------------- */

struct io_req {
	uint64_t cookie;
	uint64_t offset;
	uint32_t length;
	uint32_t buf;
	uint8_t op;
};

/* Waits (up to the socket's 10 s timeout) for an IO message: its 1st REQ. */
static bool next_io(struct conn *c, struct io_req *r)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, BUF_SIZE, 0);
		struct nlmsghdr *nlh;

		if (n < 0)
			return errno == EINTR || errno == ENOBUFS ?
			       next_io(c, r) : false;
		for (nlh = (struct nlmsghdr *)c->rbuf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			const struct genlmsghdr *g = NLMSG_DATA(nlh);
			const struct nlattr *tb[VALET_ATTR_MAX + 1];
			const struct nlattr *rq[VALET_REQ_MAX + 1];

			if (nlh->nlmsg_type != c->family ||
			    g->cmd != VALET_CMD_IO)
				continue;
			parse_attrs((const char *)g + GENL_HDRLEN,
				    nlh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN),
				    tb, VALET_ATTR_MAX);
			if (!tb[VALET_ATTR_REQ])
				continue;
			parse_attrs(nla_payload(tb[VALET_ATTR_REQ]),
				    tb[VALET_ATTR_REQ]->nla_len - NLA_HDRLEN,
				    rq, VALET_REQ_MAX);
			if (!rq[VALET_REQ_COOKIE] || !rq[VALET_REQ_OP] ||
			    !rq[VALET_REQ_OFFSET] || !rq[VALET_REQ_LENGTH] ||
			    !rq[VALET_REQ_BUF])
				return false;
			r->cookie = get_uint(rq[VALET_REQ_COOKIE]);
			r->op = (uint8_t)get_uint(rq[VALET_REQ_OP]);
			r->offset = get_uint(rq[VALET_REQ_OFFSET]);
			r->length = (uint32_t)get_uint(rq[VALET_REQ_LENGTH]);
			r->buf = (uint32_t)get_uint(rq[VALET_REQ_BUF]);
			return true;
		}
	}
}

/* Sends one CPL (without STATUS if @status is 1); returns the errno. */
static int complete_one(struct conn *c, struct msg *m, uint64_t cookie,
			int32_t status)
{
	msg_begin(m, c, VALET_CMD_DONE);
	nest_begin(m, VALET_ATTR_CPL, true);
	put_u64(m, VALET_CPL_COOKIE, cookie);
	if (status != 1)
		put_s32(m, VALET_CPL_STATUS, status);
	nest_end(m);
	msg_end(m);
	return transact(c, m, NULL);
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7 + i / 4096);
}

/*
 * A child doing one O_DIRECT read or write of @len bytes at @offset of
 * /dev/valet@index; a read must see fill(@seed). Returns its pid.
 */
static pid_t child_io(uint32_t index, bool write, uint64_t offset,
		      size_t len, unsigned int seed)
{
	char path[32];
	unsigned char *buf, *want;
	pid_t pid = fork();
	ssize_t n;
	int fd;

	if (pid)
		return pid;
	snprintf(path, sizeof(path), "/dev/valet%u", index);
	fd = open(path, O_RDWR | O_DIRECT);
	want = malloc(len);
	if (fd < 0 || !want || posix_memalign((void **)&buf, 4096, len))
		_exit(2);
	fill(want, len, seed);
	if (write) {
		memcpy(buf, want, len);
		n = pwrite(fd, buf, len, (off_t)offset);
	} else {
		n = pread(fd, buf, len, (off_t)offset);
	}
	_exit(n == (ssize_t)len && (write || !memcmp(buf, want, len)) ? 0 : 1);
}

static bool child_ok(pid_t pid)
{
	int status;

	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static int check(bool ok, const char *name, const char *detail)
{
	printf("  %s %-34s %s\n", ok ? "ok  " : "FAIL", name, detail);
	return ok ? 0 : 1;
}

static int daemon_probe(struct conn *c, struct msg *m, uint32_t index)
{
	const uint64_t gen_bit = 1ULL << 32;
	struct device *d = NULL;
	uint64_t rejected0;
	unsigned char *area, *want, *longer;
	struct io_req r;
	int failed = 0, err, i;
	pid_t pid;

	err = get_status(c, m);
	for (i = 0; !err && i < c->ndev; i++)
		if (c->dev[i].index == index)
			d = &c->dev[i];
	if (!d || !d->data_bytes)
		die("daemon-probe: no valet%u (with a data area)", index);
	rejected0 = d->rejected;
	msg_begin(m, c, VALET_CMD_ATTACH);
	put_u32(m, VALET_ATTR_VERSION, VALET_GENL_VERSION);
	msg_end(m);
	if (report(c, "ATTACH", transact(c, m, NULL)))
		return 1;
	printf("daemon-probe: attached to valet%u, data area %llu bytes\n",
	       index, (unsigned long long)d->data_bytes);
	area = map_area(index, d->data_bytes, &err);
	if (check(area, "daemon-maps-the-area", errname(err)))
		return 1;
	/* The call first: check()'s arguments have no order of evaluation. */
	longer = map_area(index, d->data_bytes + 4096, &err);
	failed += check(!longer && err == EINVAL, "map-longer-than-the-area",
			errname(err));

	pid = fork();
	if (pid == 0)
		_exit(map_area(index, 4096, &err) || err != EPERM ? 1 : 0);
	failed += check(child_ok(pid), "other-process-may-not-map", "EPERM");

	/* A read through the area, with hostile completions first. */
	pid = child_io(index, false, 40960, 8192, 0x5a);
	if (check(next_io(c, &r) && r.op == VALET_OP_READ &&
		  r.offset == 40960 && r.length == 8192 && !(r.buf % 4096) &&
		  r.buf + (uint64_t)r.length <= d->data_bytes,
		  "read-request-in-the-area", "op, offset, length, BUF")) {
		kill(pid, SIGKILL);
		return 1;
	}
	err = complete_one(c, m, r.cookie ^ gen_bit, 0);
	failed += check(err == ENOENT, "done-other-generation", errname(err));
	err = complete_one(c, m, r.cookie | 0xff000000ULL, 0);
	failed += check(err == ENOENT, "done-no-such-queue", errname(err));
	err = complete_one(c, m, r.cookie | 0x0000fff0ULL, 0);
	failed += check(err == ENOENT, "done-no-such-tag", errname(err));
	err = complete_one(c, m, r.cookie, 1);
	failed += check(err == EINVAL, "done-without-status", errname(err));
	fill(area + r.buf, r.length, 0x5a);
	err = complete_one(c, m, r.cookie, 0);
	failed += check(!err, "done-the-read", errname(err));
	err = complete_one(c, m, r.cookie, 0);
	failed += check(err == ENOENT, "done-twice", errname(err));
	failed += check(child_ok(pid), "reader-got-the-area-data", "");

	/* A write: its data is in the area when IO arrives. */
	pid = child_io(index, true, 8192, 4096, 0xa5);
	want = malloc(4096);
	if (!want)
		die("out of memory");
	fill(want, 4096, 0xa5);
	if (!check(next_io(c, &r) && r.op == VALET_OP_WRITE &&
		   r.offset == 8192 && r.length == 4096 &&
		   r.buf + 4096ULL <= d->data_bytes &&
		   !memcmp(area + r.buf, want, 4096),
		   "write-data-in-the-area", "")) {
		err = complete_one(c, m, r.cookie, 0);
		failed += check(!err, "done-the-write", errname(err));
	} else {
		failed++;
	}
	failed += check(child_ok(pid), "writer-completed", "");
	free(want);

	if (!get_status(c, m))
		for (i = 0; i < c->ndev; i++)
			if (c->dev[i].index == index)
				failed += check(c->dev[i].rejected >= rejected0 + 5,
						"refusals-counted", "STAT_REJECTED");
	munmap(area, d->data_bytes);
	msg_begin(m, c, VALET_CMD_DETACH);
	msg_end(m);
	report(c, "DETACH", transact(c, m, NULL));
	printf("daemon-probe: %s\n", failed ? "FAILED" : "every check passed");
	return failed ? 1 : 0;
}

/*
 * The first byte of @len bytes at @p that differs from the pattern of @seed
 * (zeros when @seed is -1), or -1 when none does.
 */
static long tier_mismatch(const unsigned char *p, size_t len, long seed)
{
	unsigned char want[4096];

	for (size_t at = 0; at < len; at += sizeof(want)) {
		size_t n = len - at < sizeof(want) ? len - at : sizeof(want);

		if (seed < 0)
			memset(want, 0, n);
		else
			fill(want, n, (unsigned int)(seed + at / 4096 * 3));
		if (memcmp(p + at, want, n))
			for (size_t i = 0; i < n; i++)
				if (p[at + i] != want[i])
					return (long)(at + i);
	}
	return -1;
}

static void tier_fill(unsigned char *p, size_t len, long seed)
{
	for (size_t at = 0; at < len; at += 4096)
		fill(p + at, len - at < 4096 ? len - at : 4096,
		     (unsigned int)(seed + at / 4096 * 3));
}

/*
 * The tier area from the daemon's side: refused before ATTACH and to other
 * processes; what one daemon left is what the next one finds.
 */
static int tier_probe(struct conn *c, struct msg *m, uint32_t index,
		      long expect, long fill_seed, bool hang)
{
	struct device *d = NULL;
	unsigned char *tier, *other;
	char detail[64];
	int failed = 0, err, i;
	long bad;
	pid_t pid;

	err = get_status(c, m);
	for (i = 0; !err && i < c->ndev; i++)
		if (c->dev[i].index == index)
			d = &c->dev[i];
	if (!d || !d->tier_bytes)
		die("tier-probe: no valet%u (with a tier area)", index);
	if (d->attached)
		die("tier-probe: valet%u has a daemon attached", index);
	tier = map_tier(index, VALET_BLOCK_SIZE, &err);
	failed += check(!tier && err == EPERM, "tier-map-before-attach",
			errname(err));
	msg_begin(m, c, VALET_CMD_ATTACH);
	put_u32(m, VALET_ATTR_VERSION, VALET_GENL_VERSION);
	msg_end(m);
	if (report(c, "ATTACH", transact(c, m, NULL)))
		return 1;
	printf("tier-probe: attached to valet%u, tier area %llu bytes\n", index,
	       (unsigned long long)d->tier_bytes);
	tier = map_tier(index, d->tier_bytes, &err);
	if (check(tier, "daemon-maps-the-tier", errname(err)))
		return 1;
	other = map_tier(index, d->tier_bytes + 4096, &err);
	failed += check(!other && err == EINVAL, "map-longer-than-the-tier",
			errname(err));
	other = map_at(VALET_DATA_MMAP_OFFSET(index) | (1ULL << 38), 4096,
		       &err);
	failed += check(!other && err == EINVAL, "map-between-data-and-tier",
			errname(err));
	pid = fork();
	if (pid == 0)
		_exit(map_tier(index, 4096, &err) || err != EPERM ? 1 : 0);
	failed += check(child_ok(pid), "other-process-may-not-map-tier",
			"EPERM");
	if (expect != -2) {
		bad = tier_mismatch(tier, d->tier_bytes, expect);
		if (bad < 0)
			snprintf(detail, sizeof(detail), "%s",
				 expect < 0 ? "zeros" : "the pattern");
		else
			snprintf(detail, sizeof(detail), "byte %ld differs",
				 bad);
		failed += check(bad < 0, "tier-holds-what-was-left", detail);
	}
	if (fill_seed >= 0) {
		tier_fill(tier, d->tier_bytes, fill_seed);
		printf("tier-probe: filled with the pattern of %ld\n",
		       fill_seed);
	}
	if (hang) {
		printf("tier-probe: ready, waiting to be killed\n");
		for (;;)
			pause();
	}
	munmap(tier, d->tier_bytes);
	msg_begin(m, c, VALET_CMD_DETACH);
	msg_end(m);
	report(c, "DETACH", transact(c, m, NULL));
	printf("tier-probe: %s\n", failed ? "FAILED" : "every check passed");
	return failed ? 1 : 0;
}

static int cmd_tier_probe(struct conn *c, struct msg *m, int argc,
			  char **argv)
{
	static const struct option opts[] = {
		{ "expect", required_argument, NULL, 'e' },
		{ "fill", required_argument, NULL, 'f' },
		{ "hang", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long expect = -2, fill_seed = -1;
	bool hang = false;
	int o;

	if (argc < 2)
		die("usage: tier-probe INDEX [--expect zero|SEED] [--fill SEED] [--hang]");
	optind = 2;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'e')
			expect = strcmp(optarg, "zero") == 0 ? -1 :
				 strtol(optarg, NULL, 0);
		else if (o == 'f')
			fill_seed = strtol(optarg, NULL, 0);
		else if (o == 'h')
			hang = true;
		else
			return 2;
	}
	if (expect < -1 && expect != -2)
		die("tier-probe: bad --expect");
	if (fill_seed < -1)
		die("tier-probe: bad --fill");
	return tier_probe(c, m, (uint32_t)strtoul(argv[1], NULL, 0), expect,
			  fill_seed, hang);
}

static int cmd_control(int argc, char **argv)
{
	struct msg m = { .data = malloc(BUF_SIZE) };
	const char *cmd = argv[0];
	struct conn c;
	int err;

	if (!m.data)
		die("out of memory");
	conn_open(&c);
	resolve_family(&c, &m);

	if (strcmp(cmd, "status") == 0) {
		if (argc > 1) {
			msg_begin(&m, &c, VALET_CMD_STATUS);
			put_u32(&m, VALET_ATTR_INDEX, (uint32_t)strtoul(argv[1], NULL, 0));
			msg_end(&m);
			err = transact(&c, &m, status_reply);
		} else {
			err = get_status(&c, &m);
		}
		return report(&c, "STATUS", err);
	}
	if (strcmp(cmd, "create") == 0) {
		static const struct option opts[] = {
			{ "queue-depth", required_argument, NULL, 'q' },
			{ "hold-ms", required_argument, NULL, 'h' },
			{ "io-timeout-ms", required_argument, NULL, 't' },
			{ "data-bytes", required_argument, NULL, 'd' },
			{ "tier-bytes", required_argument, NULL, 'T' },
			{ NULL, 0, NULL, 0 },
		};
		int o;

		if (argc < 2)
			die("usage: create SIZE [--queue-depth N] [--hold-ms N]\n"
			    "       [--io-timeout-ms N] [--data-bytes SIZE] [--tier-bytes SIZE]");
		msg_begin(&m, &c, VALET_CMD_CREATE);
		put_u64(&m, VALET_ATTR_SIZE, parse_size(argv[1]));
		optind = 2;
		while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
			uint32_t v = (uint32_t)strtoul(optarg ? optarg : "0", NULL, 0);

			if (o == 'q')
				put_u32(&m, VALET_ATTR_QUEUE_DEPTH, v);
			else if (o == 'h')
				put_u32(&m, VALET_ATTR_HOLD_MS, v);
			else if (o == 't')
				put_u32(&m, VALET_ATTR_IO_TIMEOUT_MS, v);
			else if (o == 'd')
				put_u64(&m, VALET_ATTR_DATA_BYTES,
					parse_size(optarg));
			else if (o == 'T')
				put_u64(&m, VALET_ATTR_TIER_BYTES,
					parse_size(optarg));
			else
				return 2;
		}
		msg_end(&m);
		return report(&c, "CREATE", transact(&c, &m, create_reply));
	}
	if (strcmp(cmd, "destroy") == 0) {
		if (argc < 2)
			die("usage: destroy INDEX");
		msg_begin(&m, &c, VALET_CMD_DESTROY);
		put_u32(&m, VALET_ATTR_INDEX, (uint32_t)strtoul(argv[1], NULL, 0));
		msg_end(&m);
		return report(&c, "DESTROY", transact(&c, &m, NULL));
	}
	if (strcmp(cmd, "stall") == 0) {
		long seconds = argc > 1 ? strtol(argv[1], NULL, 0) : 10;
		struct timeval tv = { .tv_sec = 1 };
		time_t end = time(NULL) + seconds;
		unsigned long msgs = 0;

		msg_begin(&m, &c, VALET_CMD_ATTACH);
		put_u32(&m, VALET_ATTR_VERSION, VALET_GENL_VERSION);
		msg_end(&m);
		if (report(&c, "ATTACH", transact(&c, &m, NULL)))
			return 1;
		printf("attached (stalling for %ld s)\n", seconds);
		fflush(stdout);
		setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (time(NULL) < end)
			if (recv(c.fd, c.rbuf, BUF_SIZE, 0) > 0)
				msgs++;
		printf("received %lu IO message(s), answered none\n", msgs);
		return 0;	/* closing the socket detaches */
	}
	if (strcmp(cmd, "daemon-probe") == 0) {
		if (argc < 2)
			die("usage: daemon-probe INDEX");
		return daemon_probe(&c, &m, (uint32_t)strtoul(argv[1], NULL, 0));
	}
	if (strcmp(cmd, "tier-probe") == 0)
		return cmd_tier_probe(&c, &m, argc, argv);
	die("unknown command '%s' (probe, status, create, destroy, stall,\n"
	    "daemon-probe, tier-probe)", cmd);
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && argv[1][0] != '-' && strcmp(argv[1], "probe") != 0)
		return cmd_control(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "probe") == 0) {
		argc--;
		argv++;
	}
	return cmd_probe(argc, argv);
}
