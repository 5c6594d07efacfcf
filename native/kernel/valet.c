// SPDX-License-Identifier: GPL-2.0
/*
 * valet: /dev/valetN, a blk-mq block device whose requests are served by a
 * user-space daemon (valet-client) over the VALET generic netlink family.
 *
 * The contract is valet_uapi.h; the design is in README.md. In short:
 *
 *  - queue_rq never sleeps: it puts the request on the device's pending list
 *    and kicks the device's work item (on a WQ_MEM_RECLAIM workqueue).
 *  - The work item packs pending requests into IO messages (GFP_NOIO, with
 *    the data of writes), moves them to the in-flight table (a hash of
 *    cookies) and unicasts the message to the attached daemon. A failed
 *    allocation or unicast puts the requests back and retries later.
 *  - DONE looks each cookie up, checks it, copies read data into the bio
 *    pages and completes the request.
 *  - Without a daemon, requests are held, and sent again to the next daemon
 *    that attaches, until HOLD_MS after they were first held; then they fail.
 *
 * Locking: valet_ctl_mutex serialises control (create, destroy, attach,
 * detach, status); valet_daemon_lock protects who the daemon is; each
 * device's lock (IRQ-safe) protects its lists, its cookie table and every
 * request's driver state. The two spinlocks are never nested.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "valet_uapi.h"

#define VALET_MAX_DEVICES	256
#define VALET_DEF_QUEUE_DEPTH	256
#define VALET_MAX_QUEUE_DEPTH	4096
#define VALET_DEF_HOLD_MS	60000
#define VALET_DEF_IO_TIMEOUT_MS	30000
#define VALET_MIN_IO_TIMEOUT_MS	100
#define VALET_MAX_SIZE		BIT_ULL(50)

/*
 * The largest request the driver issues. nla_len is 16 bits, so a REQ (or
 * CPL) nest cannot carry VALET_MAX_IO_BYTES (64 KiB) of DATA together with
 * its other attributes: the largest whole number of blocks that fits is
 * 60 KiB. See README.md.
 */
#define VALET_NEST_OVERHEAD	64
#define VALET_IO_BYTES \
	((U16_MAX - VALET_NEST_OVERHEAD) / VALET_BLOCK_SIZE * VALET_BLOCK_SIZE)

/*
 * IO messages: at most VALET_MSG_REQS requests and VALET_MSG_BYTES of
 * attributes, so that one message with its skb_shared_info stays within a
 * 64 KiB allocation. A message always holds at least one request.
 */
#define VALET_MSG_BYTES		(SZ_64K - SZ_1K)
#define VALET_MSG_REQS		128
/* Messages one run of the work item sends before it yields. */
#define VALET_WORK_MSGS		16
/* Retry delays after a failed allocation or unicast. */
#define VALET_RETRY_MIN_MS	5
#define VALET_RETRY_MAX_MS	1000

/* Cookie: the device index in the top 16 bits, a sequence number below. */
#define VALET_COOKIE_INDEX_SHIFT	48
#define VALET_COOKIE_SEQ_MASK		GENMASK_ULL(47, 0)

enum valet_stat {
	VALET_ST_READS,
	VALET_ST_WRITES,
	VALET_ST_READ_BYTES,
	VALET_ST_WRITE_BYTES,
	VALET_ST_ERRORS,
	VALET_ST_TIMEOUTS,
	VALET_ST_RESENT,
	VALET_ST_REJECTED,
	VALET_NR_STATS,
};

/* Where a request is, as far as the driver is concerned. */
enum valet_rq_state {
	VALET_RQ_IDLE,		/* not ours (never queued, or completed) */
	VALET_RQ_PENDING,	/* on dev->pending: to be sent, or held */
	VALET_RQ_SENDING,	/* taken by the work item into a message */
	VALET_RQ_INFLIGHT,	/* on dev->inflight and in dev->table */
	VALET_RQ_DONE,		/* owned by whoever is completing it */
};

/* The driver's part of every request (blk_mq_rq_to_pdu). */
struct valet_pdu {
	struct list_head node;		/* pending, inflight or a local list */
	struct hlist_node hnode;	/* dev->table, while in flight */
	u64 cookie;			/* of the last send */
	unsigned long hold_start;	/* jiffies, when first held */
	blk_status_t status;		/* for valet_complete_rq */
	u8 state;			/* enum valet_rq_state */
	bool held;			/* hold_start is set */
	bool sent;			/* a daemon was sent it before */
	bool prev_sent;			/* sent, before the last send */
};

struct valet_dev {
	u32 index;
	u64 size;
	u32 queue_depth;
	u32 hold_ms;
	u32 io_timeout_ms;
	unsigned long hold_jiffies;

	refcount_t ref;			/* valet_devs holds one */
	struct rcu_head rcu;

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;

	spinlock_t lock;		/* protects what follows */
	struct list_head pending;
	struct list_head inflight;
	struct hlist_head *table;	/* in-flight requests by cookie */
	unsigned int table_bits;
	unsigned int nr_inflight;
	unsigned int open_count;
	bool dying;
	bool attached;			/* a daemon is attached */
	u64 epoch;			/* of that daemon */

	/* The work item and what only it touches. */
	struct delayed_work work;
	unsigned int retry_ms;
	u64 sent_cookies[VALET_MSG_REQS];

	atomic64_t stats[VALET_NR_STATS];
};

static DEFINE_MUTEX(valet_ctl_mutex);
static DEFINE_XARRAY_ALLOC(valet_devs);	/* index -> struct valet_dev */

/* The daemon: valet_daemon_net is NULL while none is attached. */
static DEFINE_SPINLOCK(valet_daemon_lock);
static struct net *valet_daemon_net;
static u32 valet_daemon_portid;
static u64 valet_daemon_epoch;
static u64 valet_epochs;		/* under valet_ctl_mutex */

static atomic64_t valet_seq = ATOMIC64_INIT(0);
static struct workqueue_struct *valet_wq;
static int valet_major;
static struct genl_family valet_family;

/* ------------------------------------------------------------------ */
/* Devices: lookup and lifetime                                        */
/* ------------------------------------------------------------------ */

static struct valet_dev *valet_dev_get(unsigned long index)
{
	struct valet_dev *d;

	rcu_read_lock();
	d = xa_load(&valet_devs, index);
	if (d && !refcount_inc_not_zero(&d->ref))
		d = NULL;
	rcu_read_unlock();
	return d;
}

static void valet_dev_put(struct valet_dev *d)
{
	if (refcount_dec_and_test(&d->ref)) {
		kvfree(d->table);
		kfree_rcu(d, rcu);
	}
}

/* Runs the work item now (force) or when it is not already queued. */
static void valet_kick_locked(struct valet_dev *d, bool force)
{
	lockdep_assert_held(&d->lock);
	if (d->dying)
		return;
	if (force)
		mod_delayed_work(valet_wq, &d->work, 0);
	else
		queue_delayed_work(valet_wq, &d->work, 0);
}

/* ------------------------------------------------------------------ */
/* Requests: hold clock, cookie table                                  */
/* ------------------------------------------------------------------ */

static void valet_hold_locked(struct valet_pdu *cmd)
{
	if (!cmd->held) {
		cmd->held = true;
		cmd->hold_start = jiffies;
	}
}

static bool valet_hold_expired(struct valet_dev *d, struct valet_pdu *cmd,
			       unsigned long now)
{
	return cmd->held && time_after_eq(now, cmd->hold_start + d->hold_jiffies);
}

static struct hlist_head *valet_bucket(struct valet_dev *d, u64 cookie)
{
	return &d->table[hash_64(cookie, d->table_bits)];
}

static struct valet_pdu *valet_lookup_locked(struct valet_dev *d, u64 cookie)
{
	struct valet_pdu *cmd;

	hlist_for_each_entry(cmd, valet_bucket(d, cookie), hnode)
		if (cmd->cookie == cookie && cmd->state == VALET_RQ_INFLIGHT)
			return cmd;
	return NULL;
}

/* Takes an in-flight request away from the daemon. */
static void valet_unflight_locked(struct valet_dev *d, struct valet_pdu *cmd)
{
	hlist_del_init(&cmd->hnode);
	list_del_init(&cmd->node);
	d->nr_inflight--;
}

/* Puts a request back at the head of the pending list. */
static void valet_requeue_locked(struct valet_dev *d, struct valet_pdu *cmd)
{
	cmd->state = VALET_RQ_PENDING;
	if (!d->attached)
		valet_hold_locked(cmd);
	list_move(&cmd->node, &d->pending);
}

static void valet_fail_list(struct list_head *list)
{
	struct valet_pdu *cmd, *tmp;

	list_for_each_entry_safe(cmd, tmp, list, node) {
		list_del_init(&cmd->node);
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(blk_mq_rq_from_pdu(cmd));
	}
}

/* ------------------------------------------------------------------ */
/* blk-mq                                                              */
/* ------------------------------------------------------------------ */

static blk_status_t valet_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct valet_dev *d = hctx->queue->queuedata;
	struct valet_pdu *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;

	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		if (blk_rq_bytes(rq) > VALET_IO_BYTES)
			return BLK_STS_IOERR;
		break;
	case REQ_OP_FLUSH:
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	blk_mq_start_request(rq);
	cmd->status = BLK_STS_OK;
	cmd->held = false;
	cmd->sent = false;

	spin_lock_irqsave(&d->lock, flags);
	if (d->dying) {
		spin_unlock_irqrestore(&d->lock, flags);
		return BLK_STS_IOERR;
	}
	cmd->state = VALET_RQ_PENDING;
	if (!d->attached)
		valet_hold_locked(cmd);
	list_add_tail(&cmd->node, &d->pending);
	valet_kick_locked(d, false);
	spin_unlock_irqrestore(&d->lock, flags);
	return BLK_STS_OK;
}

static void valet_complete_rq(struct request *rq)
{
	struct valet_dev *d = rq->q->queuedata;
	struct valet_pdu *cmd = blk_mq_rq_to_pdu(rq);

	if (cmd->status != BLK_STS_OK) {
		atomic64_inc(&d->stats[VALET_ST_ERRORS]);
	} else if (req_op(rq) == REQ_OP_READ) {
		atomic64_inc(&d->stats[VALET_ST_READS]);
		atomic64_add(blk_rq_bytes(rq), &d->stats[VALET_ST_READ_BYTES]);
	} else if (req_op(rq) == REQ_OP_WRITE) {
		atomic64_inc(&d->stats[VALET_ST_WRITES]);
		atomic64_add(blk_rq_bytes(rq), &d->stats[VALET_ST_WRITE_BYTES]);
	}
	cmd->state = VALET_RQ_IDLE;
	blk_mq_end_request(rq, cmd->status);
}

/*
 * A request's timer expired. Within its hold deadline (counted from its
 * first timeout when a daemon has it, or from when it was first held without
 * one) the timer is reset; past it, the request fails.
 */
static enum blk_eh_timer_return valet_timeout(struct request *rq)
{
	struct valet_dev *d = rq->q->queuedata;
	struct valet_pdu *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;

	atomic64_inc(&d->stats[VALET_ST_TIMEOUTS]);
	spin_lock_irqsave(&d->lock, flags);
	if (cmd->state != VALET_RQ_PENDING && cmd->state != VALET_RQ_INFLIGHT) {
		/* Being sent or being completed: its owner finishes it. */
		spin_unlock_irqrestore(&d->lock, flags);
		return BLK_EH_RESET_TIMER;
	}
	valet_hold_locked(cmd);
	if (!valet_hold_expired(d, cmd, jiffies)) {
		spin_unlock_irqrestore(&d->lock, flags);
		return BLK_EH_RESET_TIMER;
	}
	if (cmd->state == VALET_RQ_INFLIGHT)
		valet_unflight_locked(d, cmd);
	else
		list_del_init(&cmd->node);
	cmd->state = VALET_RQ_DONE;
	spin_unlock_irqrestore(&d->lock, flags);

	pr_warn_ratelimited("valet%u: request failed: no answer within %u ms of its first timeout or hold\n",
			    d->index, d->hold_ms);
	cmd->status = BLK_STS_IOERR;
	blk_mq_complete_request(rq);
	return BLK_EH_DONE;
}

static int valet_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx, unsigned int numa_node)
{
	struct valet_pdu *cmd = blk_mq_rq_to_pdu(rq);

	INIT_LIST_HEAD(&cmd->node);
	INIT_HLIST_NODE(&cmd->hnode);
	cmd->state = VALET_RQ_IDLE;
	return 0;
}

static const struct blk_mq_ops valet_mq_ops = {
	.queue_rq	= valet_queue_rq,
	.complete	= valet_complete_rq,
	.timeout	= valet_timeout,
	.init_request	= valet_init_request,
};

static int valet_open_disk(struct gendisk *disk)
{
	struct valet_dev *d = disk->private_data;
	int ret = 0;

	spin_lock_irq(&d->lock);
	if (d->dying)
		ret = -ENXIO;
	else
		d->open_count++;
	spin_unlock_irq(&d->lock);
	return ret;
}

static void valet_release_disk(struct gendisk *disk)
{
	struct valet_dev *d = disk->private_data;

	spin_lock_irq(&d->lock);
	d->open_count--;
	spin_unlock_irq(&d->lock);
}

#ifdef VALET_OPEN_GENDISK
static int valet_open(struct gendisk *disk, blk_mode_t mode)
{
	return valet_open_disk(disk);
}

static void valet_release(struct gendisk *disk)
{
	valet_release_disk(disk);
}
#else
static int valet_open(struct block_device *bdev, fmode_t mode)
{
	return valet_open_disk(bdev->bd_disk);
}

static void valet_release(struct gendisk *disk, fmode_t mode)
{
	valet_release_disk(disk);
}
#endif

static const struct block_device_operations valet_fops = {
	.owner		= THIS_MODULE,
	.open		= valet_open,
	.release	= valet_release,
};

/* ------------------------------------------------------------------ */
/* The work item: IO messages to the daemon, hold deadlines            */
/* ------------------------------------------------------------------ */

/* Takes a reference on the daemon's net namespace; false: no daemon. */
static bool valet_daemon_snapshot(struct net **net, u32 *portid, u64 *epoch)
{
	bool attached;

	spin_lock(&valet_daemon_lock);
	attached = !!valet_daemon_net;
	if (attached) {
		*net = get_net(valet_daemon_net);
		*portid = valet_daemon_portid;
		*epoch = valet_daemon_epoch;
	}
	spin_unlock(&valet_daemon_lock);
	return attached;
}

static size_t valet_req_size(struct request *rq)
{
	size_t size = nla_total_size(0) +		/* REQ */
		      nla_total_size_64bit(sizeof(u64)) +	/* COOKIE */
		      nla_total_size(sizeof(u8)) +		/* OP */
		      nla_total_size_64bit(sizeof(u64)) +	/* OFFSET */
		      nla_total_size(sizeof(u32));		/* LENGTH */

	if (req_op(rq) == REQ_OP_WRITE)
		size += nla_total_size(blk_rq_bytes(rq));	/* DATA */
	return size;
}

static void valet_copy_from_rq(struct request *rq, char *buf)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_from_bvec(buf, &bv);
		buf += bv.bv_len;
	}
}

static void valet_copy_to_rq(struct request *rq, const char *buf)
{
	struct req_iterator iter;
	struct bio_vec bv;

	rq_for_each_segment(bv, rq, iter) {
		memcpy_to_bvec(&bv, buf);
		buf += bv.bv_len;
	}
}

static int valet_put_req(struct sk_buff *skb, struct request *rq, u64 cookie)
{
	struct nlattr *nest, *data;
	u64 offset = 0;
	u32 length = 0;
	u8 op;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		op = VALET_OP_READ;
		break;
	case REQ_OP_WRITE:
		op = VALET_OP_WRITE;
		break;
	default:
		op = VALET_OP_FLUSH;
		break;
	}
	if (op != VALET_OP_FLUSH) {
		offset = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
		length = blk_rq_bytes(rq);
	}

	nest = nla_nest_start(skb, VALET_ATTR_REQ);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, VALET_REQ_COOKIE, cookie, VALET_REQ_PAD) ||
	    nla_put_u8(skb, VALET_REQ_OP, op) ||
	    nla_put_u64_64bit(skb, VALET_REQ_OFFSET, offset, VALET_REQ_PAD) ||
	    nla_put_u32(skb, VALET_REQ_LENGTH, length))
		return -EMSGSIZE;
	if (op == VALET_OP_WRITE) {
		data = nla_reserve(skb, VALET_REQ_DATA, length);
		if (!data)
			return -EMSGSIZE;
		valet_copy_from_rq(rq, nla_data(data));
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * Builds one IO message for the requests on @batch (owned by the caller,
 * state SENDING) and gives each a new cookie. NULL: no memory.
 */
static struct sk_buff *valet_build_io(struct valet_dev *d,
				      struct list_head *batch, size_t size,
				      gfp_t gfp)
{
	struct valet_pdu *cmd;
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(size, gfp);
	if (!skb)
		return NULL;
	hdr = genlmsg_put(skb, 0, 0, &valet_family, 0, VALET_CMD_IO);
	if (!hdr || nla_put_u32(skb, VALET_ATTR_INDEX, d->index))
		goto overflow;
	list_for_each_entry(cmd, batch, node) {
		cmd->cookie = ((u64)d->index << VALET_COOKIE_INDEX_SHIFT) |
			      (atomic64_inc_return(&valet_seq) &
			       VALET_COOKIE_SEQ_MASK);
		if (valet_put_req(skb, blk_mq_rq_from_pdu(cmd), cmd->cookie))
			goto overflow;
	}
	genlmsg_end(skb, hdr);
	return skb;

overflow:
	/* valet_req_size() is exact: this is a bug, not a lack of memory. */
	pr_err_ratelimited("valet%u: IO message of %zu bytes overflowed\n",
			   d->index, size);
	nlmsg_free(skb);
	return ERR_PTR(-EMSGSIZE);
}

/* Puts the requests of @batch back at the head of the pending list. */
static void valet_requeue_batch(struct valet_dev *d, struct list_head *batch)
{
	struct valet_pdu *cmd, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	list_for_each_entry_safe_reverse(cmd, tmp, batch, node)
		valet_requeue_locked(d, cmd);
	spin_unlock_irqrestore(&d->lock, flags);
}

/* A unicast failed: takes the requests that are still in flight back. */
static void valet_unsend(struct valet_dev *d, unsigned int n)
{
	struct valet_pdu *cmd;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	while (n--) {
		cmd = valet_lookup_locked(d, d->sent_cookies[n]);
		if (!cmd)
			continue;
		valet_unflight_locked(d, cmd);
		if (cmd->prev_sent)
			atomic64_dec(&d->stats[VALET_ST_RESENT]);
		cmd->sent = cmd->prev_sent;
		valet_requeue_locked(d, cmd);
	}
	spin_unlock_irqrestore(&d->lock, flags);
}

/*
 * Sends one IO message. Returns 1 when it sent one (or should be called
 * again), 0 when there is nothing to send or no daemon, a negative errno
 * when it failed and the requests are back on the pending list.
 */
static int valet_send(struct valet_dev *d)
{
	size_t size = nla_total_size(sizeof(u32));	/* INDEX */
	struct valet_pdu *cmd, *tmp;
	LIST_HEAD(batch);
	struct sk_buff *skb;
	unsigned long flags;
	unsigned int n = 0;
	struct net *net;
	u32 portid;
	u64 epoch;
	int ret;

	if (!valet_daemon_snapshot(&net, &portid, &epoch))
		return 0;

	spin_lock_irqsave(&d->lock, flags);
	list_for_each_entry_safe(cmd, tmp, &d->pending, node) {
		size_t req = valet_req_size(blk_mq_rq_from_pdu(cmd));

		if (n && (n == VALET_MSG_REQS || size + req > VALET_MSG_BYTES))
			break;
		cmd->state = VALET_RQ_SENDING;
		list_move_tail(&cmd->node, &batch);
		size += req;
		n++;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (!n) {
		put_net(net);
		return 0;
	}

	skb = valet_build_io(d, &batch, size, GFP_NOIO | __GFP_NOWARN);
	if (!skb) {
		/*
		 * Short of memory: send the first request alone, allowed to
		 * use the reserves (it may be what frees memory: swap-out).
		 */
		cmd = list_first_entry(&batch, struct valet_pdu, node);
		if (n > 1) {
			LIST_HEAD(rest);

			list_splice_init(&batch, &rest);
			list_move(&cmd->node, &batch);
			valet_requeue_batch(d, &rest);
			n = 1;
		}
		size = nla_total_size(sizeof(u32)) +
		       valet_req_size(blk_mq_rq_from_pdu(cmd));
		skb = valet_build_io(d, &batch, size,
				     GFP_NOIO | __GFP_NOWARN | __GFP_MEMALLOC);
	}
	if (IS_ERR_OR_NULL(skb)) {
		put_net(net);
		if (!skb) {
			valet_requeue_batch(d, &batch);
			return -ENOMEM;
		}
		valet_fail_list(&batch);
		return 1;
	}

	/* Publish: from here DONE may complete them, do not touch them. */
	spin_lock_irqsave(&d->lock, flags);
	if (d->dying || !d->attached || d->epoch != epoch) {
		/* The daemon changed while the message was built. */
		list_for_each_entry_safe_reverse(cmd, tmp, &batch, node)
			valet_requeue_locked(d, cmd);
		spin_unlock_irqrestore(&d->lock, flags);
		nlmsg_free(skb);
		put_net(net);
		return 1;
	}
	n = 0;
	list_for_each_entry_safe(cmd, tmp, &batch, node) {
		list_move_tail(&cmd->node, &d->inflight);
		hlist_add_head(&cmd->hnode, valet_bucket(d, cmd->cookie));
		cmd->state = VALET_RQ_INFLIGHT;
		cmd->prev_sent = cmd->sent;
		if (cmd->sent)
			atomic64_inc(&d->stats[VALET_ST_RESENT]);
		cmd->sent = true;
		d->sent_cookies[n++] = cmd->cookie;
		d->nr_inflight++;
	}
	spin_unlock_irqrestore(&d->lock, flags);

	ret = genlmsg_unicast(net, skb, portid);
	put_net(net);
	if (ret) {
		pr_debug("valet%u: unicast to port %u failed: %d\n",
			 d->index, portid, ret);
		valet_unsend(d, n);
		return ret;
	}
	return 1;
}

/* Fails the pending requests whose hold deadline has passed. */
static void valet_reap(struct valet_dev *d)
{
	unsigned long now = jiffies, flags;
	struct valet_pdu *cmd, *tmp;
	LIST_HEAD(expired);
	unsigned int n = 0;

	spin_lock_irqsave(&d->lock, flags);
	list_for_each_entry_safe(cmd, tmp, &d->pending, node) {
		if (valet_hold_expired(d, cmd, now)) {
			cmd->state = VALET_RQ_DONE;
			list_move_tail(&cmd->node, &expired);
			n++;
		}
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (n)
		pr_warn_ratelimited("valet%u: %u request(s) failed: no daemon within %u ms\n",
				    d->index, n, d->hold_ms);
	valet_fail_list(&expired);
}

static void valet_work(struct work_struct *work)
{
	struct valet_dev *d = container_of(to_delayed_work(work),
					   struct valet_dev, work);
	unsigned int noio = memalloc_noio_save();
	unsigned long now, flags, delay = 0;
	struct valet_pdu *cmd;
	bool rearm = false;
	int i, ret = 0;

	for (i = 0; i < VALET_WORK_MSGS; i++) {
		if (READ_ONCE(d->dying))
			goto out;
		valet_reap(d);
		ret = valet_send(d);
		if (ret <= 0)
			break;
	}

	if (ret < 0) {
		if (d->retry_ms == VALET_RETRY_MAX_MS)
			pr_warn_ratelimited("valet%u: cannot send to the daemon (%d), retrying\n",
					    d->index, ret);
		d->retry_ms = clamp(d->retry_ms * 2, VALET_RETRY_MIN_MS,
				    VALET_RETRY_MAX_MS);
		delay = msecs_to_jiffies(d->retry_ms);
		rearm = true;
	} else if (i == VALET_WORK_MSGS) {
		d->retry_ms = 0;
		rearm = true;		/* more to send: yield, then go on */
	} else {
		d->retry_ms = 0;
	}

	spin_lock_irqsave(&d->lock, flags);
	if (!rearm) {
		/* Wake up at the first hold deadline, if any. */
		now = jiffies;
		list_for_each_entry(cmd, &d->pending, node) {
			unsigned long left;

			if (!cmd->held)
				continue;
			left = valet_hold_expired(d, cmd, now) ? 0 :
			       cmd->hold_start + d->hold_jiffies - now;
			if (!rearm || left < delay)
				delay = left;
			rearm = true;
		}
	}
	if (rearm && !d->dying)
		queue_delayed_work(valet_wq, &d->work, delay);
	spin_unlock_irqrestore(&d->lock, flags);
out:
	memalloc_noio_restore(noio);
}

/* ------------------------------------------------------------------ */
/* Device creation and removal                                         */
/* ------------------------------------------------------------------ */

static struct gendisk *valet_alloc_disk(struct valet_dev *d)
{
	struct gendisk *disk;
#ifdef VALET_ALLOC_DISK_LIMITS
	struct queue_limits lim = {
		.logical_block_size	= VALET_BLOCK_SIZE,
		.physical_block_size	= VALET_BLOCK_SIZE,
		.max_hw_sectors		= VALET_IO_BYTES >> SECTOR_SHIFT,
#ifdef VALET_LIMITS_FEATURES
		/* Not BLK_FEAT_ROTATIONAL: non-rotational. */
		.features		= BLK_FEAT_WRITE_CACHE,
#endif
	};

	disk = blk_mq_alloc_disk(&d->tag_set, &lim, d);
	if (IS_ERR(disk))
		return disk;
#ifndef VALET_LIMITS_FEATURES
	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	blk_queue_write_cache(disk->queue, true, false);
#endif
#else
	struct request_queue *q;

	disk = blk_mq_alloc_disk(&d->tag_set, d);
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, VALET_BLOCK_SIZE);
	blk_queue_physical_block_size(q, VALET_BLOCK_SIZE);
	blk_queue_max_hw_sectors(q, VALET_IO_BYTES >> SECTOR_SHIFT);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	/* A write cache, so that flushes reach the daemon (README.md). */
	blk_queue_write_cache(q, true, false);
#endif
	return disk;
}

/* Called with valet_ctl_mutex held. */
static struct valet_dev *valet_dev_create(u64 size, u32 queue_depth,
					  u32 hold_ms, u32 io_timeout_ms)
{
	struct gendisk *disk;
	struct valet_dev *d;
	unsigned int bits;
	u32 index;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return ERR_PTR(-ENOMEM);
	d->size = size;
	d->queue_depth = queue_depth;
	d->hold_ms = hold_ms;
	d->hold_jiffies = msecs_to_jiffies(hold_ms);
	d->io_timeout_ms = io_timeout_ms;
	refcount_set(&d->ref, 1);
	spin_lock_init(&d->lock);
	INIT_LIST_HEAD(&d->pending);
	INIT_LIST_HEAD(&d->inflight);
	INIT_DELAYED_WORK(&d->work, valet_work);

	bits = ilog2(roundup_pow_of_two(nr_cpu_ids * queue_depth));
	d->table_bits = clamp(bits, 6U, 16U);
	d->table = kvcalloc(1U << d->table_bits, sizeof(*d->table), GFP_KERNEL);
	if (!d->table) {
		kfree(d);
		return ERR_PTR(-ENOMEM);
	}

	spin_lock(&valet_daemon_lock);
	d->attached = !!valet_daemon_net;
	d->epoch = valet_daemon_epoch;
	spin_unlock(&valet_daemon_lock);

	/* From here DONE can find the device (and its empty table). */
	ret = xa_alloc(&valet_devs, &index, d,
		       XA_LIMIT(0, VALET_MAX_DEVICES - 1), GFP_KERNEL);
	if (ret) {
		kvfree(d->table);
		kfree(d);
		return ERR_PTR(ret == -EBUSY ? -ENOSPC : ret);
	}
	d->index = index;

	d->tag_set.ops = &valet_mq_ops;
	d->tag_set.nr_hw_queues = nr_cpu_ids;
	d->tag_set.nr_maps = 1;
	d->tag_set.queue_depth = queue_depth;
	d->tag_set.numa_node = NUMA_NO_NODE;
	d->tag_set.cmd_size = sizeof(struct valet_pdu);
	d->tag_set.timeout = msecs_to_jiffies(io_timeout_ms);
	d->tag_set.driver_data = d;
	d->tag_set.flags = BLK_MQ_F_NO_SCHED_BY_DEFAULT;
#ifdef VALET_SHOULD_MERGE
	d->tag_set.flags |= BLK_MQ_F_SHOULD_MERGE;
#endif
	ret = blk_mq_alloc_tag_set(&d->tag_set);
	if (ret)
		goto out_erase;

	disk = valet_alloc_disk(d);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto out_tag_set;
	}
	d->disk = disk;
	disk->major = valet_major;
	disk->first_minor = index;
	disk->minors = 1;
	disk->fops = &valet_fops;
	disk->private_data = d;
	disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, "valet%u", index);
	set_capacity(disk, size >> SECTOR_SHIFT);

	ret = add_disk(disk);
	if (ret)
		goto out_disk;

	pr_info("valet%u: %llu bytes, %u queues of depth %u, hold %u ms, I/O timeout %u ms\n",
		index, size, nr_cpu_ids, queue_depth, hold_ms, io_timeout_ms);
	return d;

out_disk:
	put_disk(disk);
out_tag_set:
	blk_mq_free_tag_set(&d->tag_set);
out_erase:
	xa_erase(&valet_devs, index);
	valet_dev_put(d);
	return ERR_PTR(ret);
}

/*
 * Called with valet_ctl_mutex held and d->dying set: fails whatever is
 * pending or in flight, removes the disk, drops the list's reference.
 */
static void valet_dev_destroy(struct valet_dev *d)
{
	struct valet_pdu *cmd, *tmp;
	LIST_HEAD(abort);
	unsigned int n = 0;

	xa_erase(&valet_devs, d->index);
	cancel_delayed_work_sync(&d->work);

	spin_lock_irq(&d->lock);
	list_for_each_entry_safe(cmd, tmp, &d->inflight, node) {
		hlist_del_init(&cmd->hnode);
		cmd->state = VALET_RQ_DONE;
		list_move_tail(&cmd->node, &abort);
		n++;
	}
	d->nr_inflight = 0;
	list_for_each_entry_safe(cmd, tmp, &d->pending, node) {
		cmd->state = VALET_RQ_DONE;
		list_move_tail(&cmd->node, &abort);
		n++;
	}
	spin_unlock_irq(&d->lock);
	if (n)
		pr_warn("valet%u: %u request(s) failed: device removed\n",
			d->index, n);
	valet_fail_list(&abort);

	del_gendisk(d->disk);
	put_disk(d->disk);
	blk_mq_free_tag_set(&d->tag_set);
	pr_info("valet%u: removed\n", d->index);
	valet_dev_put(d);
}

/* ------------------------------------------------------------------ */
/* The daemon                                                          */
/* ------------------------------------------------------------------ */

static bool valet_is_daemon(struct net *net, u32 portid)
{
	bool is;

	spin_lock(&valet_daemon_lock);
	is = valet_daemon_net && valet_daemon_portid == portid &&
	     net_eq(valet_daemon_net, net);
	spin_unlock(&valet_daemon_lock);
	return is;
}

/*
 * Called with valet_ctl_mutex held. In-flight requests go back to the
 * pending list, ahead of the others, and every pending request is held.
 */
static void valet_detach_locked(void)
{
	struct valet_pdu *cmd, *tmp;
	struct valet_dev *d;
	unsigned long index;
	struct net *net;
	u32 portid;

	spin_lock(&valet_daemon_lock);
	net = valet_daemon_net;
	portid = valet_daemon_portid;
	valet_daemon_net = NULL;
	valet_daemon_portid = 0;
	valet_daemon_epoch = 0;
	spin_unlock(&valet_daemon_lock);
	if (!net)
		return;

	xa_for_each(&valet_devs, index, d) {
		spin_lock_irq(&d->lock);
		d->attached = false;
		d->epoch = 0;
		list_for_each_entry_safe_reverse(cmd, tmp, &d->inflight, node) {
			hlist_del_init(&cmd->hnode);
			valet_requeue_locked(d, cmd);
		}
		d->nr_inflight = 0;
		list_for_each_entry(cmd, &d->pending, node)
			valet_hold_locked(cmd);
		valet_kick_locked(d, true);
		spin_unlock_irq(&d->lock);
	}
	put_net(net);
	pr_info("daemon (port %u) detached: requests are held for the next one\n",
		portid);
}

static int valet_netlink_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;
	if (!valet_is_daemon(n->net, n->portid))
		return NOTIFY_DONE;
	mutex_lock(&valet_ctl_mutex);
	if (valet_is_daemon(n->net, n->portid)) {
		pr_info("daemon (port %u) closed its socket\n", n->portid);
		valet_detach_locked();
	}
	mutex_unlock(&valet_ctl_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block valet_netlink_notifier = {
	.notifier_call = valet_netlink_event,
};

/* ------------------------------------------------------------------ */
/* Generic netlink commands                                            */
/* ------------------------------------------------------------------ */

/* GENL_ADMIN_PERM checks CAP_NET_ADMIN; the device also needs this. */
static int valet_check_admin(struct sk_buff *skb,
			     struct netlink_ext_ack *extack)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack, "valet: CAP_SYS_ADMIN required");
	return -EPERM;
}

static int valet_cmd_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *version = info->attrs[VALET_ATTR_VERSION];
	struct net *net = genl_info_net(info);
	u32 portid = info->snd_portid;
	struct valet_dev *d;
	unsigned long index;
	u64 epoch;
	int ret;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;
	if (!version) {
		NL_SET_ERR_MSG(info->extack, "valet: ATTACH needs VERSION");
		return -EINVAL;
	}
	if (nla_get_u32(version) != VALET_GENL_VERSION) {
		NL_SET_ERR_MSG_ATTR(info->extack, version,
				    "valet: unsupported VERSION");
		return -EINVAL;
	}

	mutex_lock(&valet_ctl_mutex);
	spin_lock(&valet_daemon_lock);
	if (valet_daemon_net) {
		bool same = valet_daemon_portid == portid &&
			    net_eq(valet_daemon_net, net);

		spin_unlock(&valet_daemon_lock);
		mutex_unlock(&valet_ctl_mutex);
		if (same)
			return 0;
		NL_SET_ERR_MSG(info->extack,
			       "valet: another daemon is attached");
		return -EBUSY;
	}
	valet_daemon_net = get_net(net);
	valet_daemon_portid = portid;
	valet_daemon_epoch = ++valet_epochs;
	epoch = valet_daemon_epoch;
	spin_unlock(&valet_daemon_lock);

	xa_for_each(&valet_devs, index, d) {
		spin_lock_irq(&d->lock);
		d->attached = true;
		d->epoch = epoch;
		valet_kick_locked(d, true);	/* re-send what is held */
		spin_unlock_irq(&d->lock);
	}
	mutex_unlock(&valet_ctl_mutex);
	pr_info("daemon attached (port %u)\n", portid);
	return 0;
}

static int valet_cmd_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	bool none;
	int ret;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;

	mutex_lock(&valet_ctl_mutex);
	spin_lock(&valet_daemon_lock);
	none = !valet_daemon_net;
	spin_unlock(&valet_daemon_lock);
	if (none) {
		NL_SET_ERR_MSG(info->extack, "valet: no daemon is attached");
		ret = -ENOTCONN;
	} else if (!valet_is_daemon(net, info->snd_portid)) {
		NL_SET_ERR_MSG(info->extack,
			       "valet: only the attached daemon may DETACH");
		ret = -EPERM;
	} else {
		valet_detach_locked();
	}
	mutex_unlock(&valet_ctl_mutex);
	return ret;
}

static int valet_cmd_create(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u32 queue_depth = VALET_DEF_QUEUE_DEPTH;
	u32 io_timeout_ms = VALET_DEF_IO_TIMEOUT_MS;
	u32 hold_ms = VALET_DEF_HOLD_MS;
	struct sk_buff *reply;
	struct valet_dev *d;
	u32 index;
	void *hdr;
	u64 size;
	int ret;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;
	if (!attrs[VALET_ATTR_SIZE]) {
		NL_SET_ERR_MSG(info->extack, "valet: CREATE needs SIZE");
		return -EINVAL;
	}
	size = nla_get_u64(attrs[VALET_ATTR_SIZE]);
	if (!IS_ALIGNED(size, VALET_BLOCK_SIZE)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[VALET_ATTR_SIZE],
				    "valet: SIZE is not a multiple of 4096");
		return -EINVAL;
	}
	if (attrs[VALET_ATTR_QUEUE_DEPTH])
		queue_depth = nla_get_u32(attrs[VALET_ATTR_QUEUE_DEPTH]);
	if (attrs[VALET_ATTR_HOLD_MS])
		hold_ms = nla_get_u32(attrs[VALET_ATTR_HOLD_MS]);
	if (attrs[VALET_ATTR_IO_TIMEOUT_MS])
		io_timeout_ms = nla_get_u32(attrs[VALET_ATTR_IO_TIMEOUT_MS]);

	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;

	mutex_lock(&valet_ctl_mutex);
	d = valet_dev_create(size, queue_depth, hold_ms, io_timeout_ms);
	if (!IS_ERR(d))
		index = d->index;
	mutex_unlock(&valet_ctl_mutex);
	if (IS_ERR(d)) {
		nlmsg_free(reply);
		if (PTR_ERR(d) == -ENOSPC)
			NL_SET_ERR_MSG(info->extack, "valet: too many devices");
		return PTR_ERR(d);
	}

	hdr = genlmsg_put_reply(reply, info, &valet_family, 0,
				VALET_CMD_CREATE);
	if (!hdr || nla_put_u32(reply, VALET_ATTR_INDEX, index) ||
	    nla_put_u64_64bit(reply, VALET_ATTR_SIZE, size, VALET_ATTR_PAD)) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	ret = genlmsg_reply(reply, info);
	if (ret)
		pr_warn("valet%u: created, but the reply to CREATE was lost (%d)\n",
			index, ret);
	return 0;
}

static int valet_cmd_destroy(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VALET_ATTR_INDEX];
	struct valet_dev *d;
	int ret;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;
	if (!attr) {
		NL_SET_ERR_MSG(info->extack, "valet: DESTROY needs INDEX");
		return -EINVAL;
	}

	mutex_lock(&valet_ctl_mutex);
	d = xa_load(&valet_devs, nla_get_u32(attr));
	if (!d) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "valet: no such device");
		ret = -ENODEV;
		goto out;
	}
	spin_lock_irq(&d->lock);
	if (d->open_count) {
		spin_unlock_irq(&d->lock);
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "valet: device is open");
		ret = -EBUSY;
		goto out;
	}
	d->dying = true;
	spin_unlock_irq(&d->lock);
	valet_dev_destroy(d);
out:
	mutex_unlock(&valet_ctl_mutex);
	return ret;
}

static int valet_fill_status(struct sk_buff *skb, struct valet_dev *d,
			     u32 portid, u32 seq, int flags)
{
	unsigned int inflight, held = 0, i;
	struct valet_pdu *cmd;
	unsigned long irqflags;
	bool attached;
	void *hdr;

	spin_lock_irqsave(&d->lock, irqflags);
	inflight = d->nr_inflight;
	list_for_each_entry(cmd, &d->pending, node)
		held += cmd->held;
	attached = d->attached;
	spin_unlock_irqrestore(&d->lock, irqflags);

	hdr = genlmsg_put(skb, portid, seq, &valet_family, flags,
			  VALET_CMD_STATUS);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VALET_ATTR_INDEX, d->index) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_SIZE, d->size, VALET_ATTR_PAD) ||
	    nla_put_u32(skb, VALET_ATTR_QUEUE_DEPTH, d->queue_depth) ||
	    nla_put_u32(skb, VALET_ATTR_HOLD_MS, d->hold_ms) ||
	    nla_put_u32(skb, VALET_ATTR_IO_TIMEOUT_MS, d->io_timeout_ms) ||
	    nla_put_u8(skb, VALET_ATTR_ATTACHED, attached) ||
	    nla_put_u32(skb, VALET_ATTR_STAT_INFLIGHT, inflight) ||
	    nla_put_u32(skb, VALET_ATTR_STAT_HELD, held))
		goto cancel;
	for (i = 0; i < VALET_NR_STATS; i++)
		if (nla_put_u64_64bit(skb, VALET_ATTR_STAT_READS + i,
				      atomic64_read(&d->stats[i]),
				      VALET_ATTR_PAD))
			goto cancel;
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * STATUS with INDEX: one reply. Without: one message per device, then the
 * acknowledgment (NLM_F_ACK). With NLM_F_DUMP: a dump of every device.
 */
static int valet_cmd_status(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *attr = info->attrs[VALET_ATTR_INDEX];
	struct sk_buff *msg;
	struct valet_dev *d;
	unsigned long index;
	int ret;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;

	mutex_lock(&valet_ctl_mutex);
	if (attr) {
		d = xa_load(&valet_devs, nla_get_u32(attr));
		if (!d) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "valet: no such device");
			ret = -ENODEV;
			goto out;
		}
		msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
		if (!msg) {
			ret = -ENOMEM;
			goto out;
		}
		ret = valet_fill_status(msg, d, info->snd_portid,
					info->snd_seq, 0);
		if (ret) {
			nlmsg_free(msg);
			goto out;
		}
		ret = genlmsg_reply(msg, info);
		goto out;
	}
	xa_for_each(&valet_devs, index, d) {
		msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
		if (!msg) {
			ret = -ENOMEM;
			break;
		}
		ret = valet_fill_status(msg, d, info->snd_portid,
					info->snd_seq, 0);
		if (ret) {
			nlmsg_free(msg);
			break;
		}
		ret = genlmsg_reply(msg, info);
		if (ret)
			break;
	}
out:
	mutex_unlock(&valet_ctl_mutex);
	return ret;
}

static int valet_status_start(struct netlink_callback *cb)
{
	return valet_check_admin(cb->skb, cb->extack);
}

static int valet_status_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct valet_dev *d;
	unsigned long index;

	mutex_lock(&valet_ctl_mutex);
	xa_for_each_start(&valet_devs, index, d, cb->args[0]) {
		if (valet_fill_status(skb, d, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI))
			break;
		cb->args[0] = index + 1;
	}
	mutex_unlock(&valet_ctl_mutex);
	return skb->len;
}

/*
 * One completion. Its request must be in flight with this cookie; a read
 * that succeeded carries exactly LENGTH bytes of DATA, nothing else does.
 * Anything else is refused (and counted) without touching the request.
 */
static int valet_done_one(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	u64 cookie = nla_get_u64(tb[VALET_CPL_COOKIE]);
	s32 status = nla_get_s32(tb[VALET_CPL_STATUS]);
	struct nlattr *data = tb[VALET_CPL_DATA];
	struct valet_pdu *cmd;
	struct request *rq;
	struct valet_dev *d;
	unsigned long flags;
	int ret = 0;

	d = valet_dev_get(cookie >> VALET_COOKIE_INDEX_SHIFT);
	if (!d) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VALET_CPL_COOKIE],
				    "valet: unknown cookie (no such device)");
		return -ENOENT;
	}

	spin_lock_irqsave(&d->lock, flags);
	cmd = valet_lookup_locked(d, cookie);
	if (!cmd) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VALET_CPL_COOKIE],
				    "valet: unknown cookie (not in flight)");
		ret = -ENOENT;
		goto refuse;
	}
	rq = blk_mq_rq_from_pdu(cmd);
	if (status == 0 && req_op(rq) == REQ_OP_READ) {
		if (!data || nla_len(data) != blk_rq_bytes(rq)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[VALET_CPL_COOKIE],
					    "valet: a read needs DATA of LENGTH bytes");
			ret = -EINVAL;
			goto refuse;
		}
	} else if (data) {
		NL_SET_ERR_MSG_ATTR(extack, data,
				    "valet: DATA only in a successful read");
		ret = -EINVAL;
		goto refuse;
	}
	valet_unflight_locked(d, cmd);
	cmd->state = VALET_RQ_DONE;
	spin_unlock_irqrestore(&d->lock, flags);

	if (data)
		valet_copy_to_rq(rq, nla_data(data));
	cmd->status = status ? errno_to_blk_status(status) : BLK_STS_OK;
	blk_mq_complete_request(rq);
	valet_dev_put(d);
	return 0;

refuse:
	spin_unlock_irqrestore(&d->lock, flags);
	atomic64_inc(&d->stats[VALET_ST_REJECTED]);
	valet_dev_put(d);
	return ret;
}

static const struct nla_policy valet_cpl_policy[VALET_CPL_MAX + 1] = {
	[VALET_CPL_COOKIE]	= { .type = NLA_U64 },
	[VALET_CPL_STATUS]	= NLA_POLICY_RANGE(NLA_S32, -MAX_ERRNO, 0),
	[VALET_CPL_DATA]	= { .type = NLA_BINARY, .len = VALET_IO_BYTES },
	[VALET_CPL_PAD]		= { .type = NLA_FLAG },
};

/*
 * DONE: every CPL is checked first (a malformed one refuses the whole
 * message), then the sender; then each CPL completes its request or is
 * refused on its own. The first refusal is the message's error.
 */
static int valet_cmd_done(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[VALET_CPL_MAX + 1];
	struct nlattr *attr;
	int rem, ret, n = 0;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;
	if (!info->attrs[VALET_ATTR_CPL]) {
		NL_SET_ERR_MSG(info->extack, "valet: DONE without CPL");
		return -EINVAL;
	}
	nla_for_each_attr(attr, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(attr) != VALET_ATTR_CPL)
			continue;
		ret = nla_parse_nested(tb, VALET_CPL_MAX, attr,
				       valet_cpl_policy, info->extack);
		if (ret)
			return ret;
		if (!tb[VALET_CPL_COOKIE] || !tb[VALET_CPL_STATUS]) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "valet: CPL needs COOKIE and STATUS");
			return -EINVAL;
		}
		n++;
	}

	if (!valet_is_daemon(genl_info_net(info), info->snd_portid)) {
		nla_for_each_attr(attr, genlmsg_data(info->genlhdr),
				  genlmsg_len(info->genlhdr), rem) {
			struct valet_dev *d;

			if (nla_type(attr) != VALET_ATTR_CPL ||
			    nla_parse_nested(tb, VALET_CPL_MAX, attr,
					     valet_cpl_policy, NULL))
				continue;
			d = valet_dev_get(nla_get_u64(tb[VALET_CPL_COOKIE]) >>
					  VALET_COOKIE_INDEX_SHIFT);
			if (d) {
				atomic64_inc(&d->stats[VALET_ST_REJECTED]);
				valet_dev_put(d);
			}
		}
		NL_SET_ERR_MSG(info->extack,
			       "valet: DONE from a port that is not the daemon");
		return -EPERM;
	}

	nla_for_each_attr(attr, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		int err;

		if (nla_type(attr) != VALET_ATTR_CPL ||
		    nla_parse_nested(tb, VALET_CPL_MAX, attr, valet_cpl_policy,
				     NULL))
			continue;
		err = valet_done_one(tb, ret ? NULL : info->extack);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

/* Every command's policy: the attributes it takes; any other is refused. */
static struct netlink_range_validation valet_size_range = {
	.min = VALET_BLOCK_SIZE,
	.max = VALET_MAX_SIZE,
};

static const struct nla_policy valet_attach_policy[VALET_ATTR_MAX + 1] = {
	[VALET_ATTR_VERSION]	= { .type = NLA_U32 },
	[VALET_ATTR_PAD]	= { .type = NLA_FLAG },
};

static const struct nla_policy valet_detach_policy[VALET_ATTR_MAX + 1] = {
	[VALET_ATTR_PAD]	= { .type = NLA_FLAG },
};

static const struct nla_policy valet_create_policy[VALET_ATTR_MAX + 1] = {
	[VALET_ATTR_SIZE]	= NLA_POLICY_FULL_RANGE(NLA_U64,
							&valet_size_range),
	[VALET_ATTR_QUEUE_DEPTH] = NLA_POLICY_RANGE(NLA_U32, 1,
						    VALET_MAX_QUEUE_DEPTH),
	[VALET_ATTR_HOLD_MS]	= { .type = NLA_U32 },
	[VALET_ATTR_IO_TIMEOUT_MS] = NLA_POLICY_MIN(NLA_U32,
						    VALET_MIN_IO_TIMEOUT_MS),
	[VALET_ATTR_PAD]	= { .type = NLA_FLAG },
};

static const struct nla_policy valet_index_policy[VALET_ATTR_MAX + 1] = {
	[VALET_ATTR_INDEX]	= { .type = NLA_U32 },
	[VALET_ATTR_PAD]	= { .type = NLA_FLAG },
};

static const struct nla_policy valet_done_policy[VALET_ATTR_MAX + 1] = {
	[VALET_ATTR_CPL]	= NLA_POLICY_NESTED(valet_cpl_policy),
	[VALET_ATTR_PAD]	= { .type = NLA_FLAG },
};

/* No IO op: it only goes from the driver to the daemon (EOPNOTSUPP). */
static const struct genl_ops valet_genl_ops[] = {
	{
		.cmd		= VALET_CMD_ATTACH,
		.flags		= GENL_ADMIN_PERM,
		.policy		= valet_attach_policy,
		.maxattr	= VALET_ATTR_MAX,
		.doit		= valet_cmd_attach,
	},
	{
		.cmd		= VALET_CMD_DETACH,
		.flags		= GENL_ADMIN_PERM,
		.policy		= valet_detach_policy,
		.maxattr	= VALET_ATTR_MAX,
		.doit		= valet_cmd_detach,
	},
	{
		.cmd		= VALET_CMD_CREATE,
		.flags		= GENL_ADMIN_PERM,
		.policy		= valet_create_policy,
		.maxattr	= VALET_ATTR_MAX,
		.doit		= valet_cmd_create,
	},
	{
		.cmd		= VALET_CMD_DESTROY,
		.flags		= GENL_ADMIN_PERM,
		.policy		= valet_index_policy,
		.maxattr	= VALET_ATTR_MAX,
		.doit		= valet_cmd_destroy,
	},
	{
		.cmd		= VALET_CMD_STATUS,
		.flags		= GENL_ADMIN_PERM,
		.policy		= valet_index_policy,
		.maxattr	= VALET_ATTR_MAX,
		.doit		= valet_cmd_status,
		.start		= valet_status_start,
		.dumpit		= valet_status_dump,
	},
	{
		.cmd		= VALET_CMD_DONE,
		.flags		= GENL_ADMIN_PERM,
		.policy		= valet_done_policy,
		.maxattr	= VALET_ATTR_MAX,
		.doit		= valet_cmd_done,
	},
};

static struct genl_family valet_family __ro_after_init = {
	.name		= VALET_GENL_NAME,
	.version	= VALET_GENL_VERSION,
	.maxattr	= VALET_ATTR_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= valet_genl_ops,
	.n_ops		= ARRAY_SIZE(valet_genl_ops),
	/* Strict header and flag checks for every command. */
	.resv_start_op	= VALET_CMD_UNSPEC + 1,
};

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static int __init valet_init(void)
{
	int ret;

	BUILD_BUG_ON(VALET_IO_BYTES > VALET_MAX_IO_BYTES);
	BUILD_BUG_ON(VALET_IO_BYTES != VALET_MAX_REQ_BYTES);
	BUILD_BUG_ON(VALET_IO_BYTES % VALET_BLOCK_SIZE);
	BUILD_BUG_ON(VALET_MAX_DEVICES > (1 << (64 - VALET_COOKIE_INDEX_SHIFT)));
	BUILD_BUG_ON(VALET_ATTR_STAT_READS + VALET_NR_STATS - 1 !=
		     VALET_ATTR_STAT_REJECTED);

	valet_wq = alloc_workqueue("valet", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!valet_wq)
		return -ENOMEM;
	ret = register_blkdev(0, "valet");
	if (ret < 0)
		goto out_wq;
	valet_major = ret;
	ret = netlink_register_notifier(&valet_netlink_notifier);
	if (ret)
		goto out_blkdev;
	ret = genl_register_family(&valet_family);
	if (ret)
		goto out_notifier;
	pr_info("loaded: generic netlink family %s version %d, requests up to %u bytes\n",
		VALET_GENL_NAME, VALET_GENL_VERSION, VALET_IO_BYTES);
	return 0;

out_notifier:
	netlink_unregister_notifier(&valet_netlink_notifier);
out_blkdev:
	unregister_blkdev(valet_major, "valet");
out_wq:
	destroy_workqueue(valet_wq);
	return ret;
}

static void __exit valet_exit(void)
{
	struct valet_dev *d;
	unsigned long index;

	/* Waits for the commands in progress; no new ones after. */
	genl_unregister_family(&valet_family);
	netlink_unregister_notifier(&valet_netlink_notifier);

	/* No device is open: an open one holds the module. */
	mutex_lock(&valet_ctl_mutex);
	xa_for_each(&valet_devs, index, d) {
		spin_lock_irq(&d->lock);
		d->dying = true;
		spin_unlock_irq(&d->lock);
		valet_dev_destroy(d);
	}
	valet_detach_locked();
	mutex_unlock(&valet_ctl_mutex);

	destroy_workqueue(valet_wq);
	unregister_blkdev(valet_major, "valet");
	xa_destroy(&valet_devs);
	pr_info("unloaded\n");
}

module_init(valet_init);
module_exit(valet_exit);

MODULE_DESCRIPTION("Valet remote paging block device (user-space daemon over generic netlink)");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(VALET_GENL_NAME);
