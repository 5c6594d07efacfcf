// SPDX-License-Identifier: GPL-2.0
/*
 * valet: /dev/valetN, a blk-mq block device whose requests are served by a
 * user-space daemon (valet-client) over the VALET generic netlink family.
 *
 * The contract is valet_uapi.h (version 3); the design is in README.md. In
 * short:
 *
 *  - Each device owns a data area, allocated with it, which the attached
 *    daemon maps from /dev/valet-data. queue_rq gives a request a run of the
 *    area's blocks (sleeping until there is room: the submitter is
 *    throttled, BLK_MQ_F_BLOCKING), copies a write's data there, puts the request on its hardware
 *    queue's pending list and, at the end of a batch, kicks that queue's
 *    work item (on a WQ_MEM_RECLAIM workqueue).
 *  - The work item packs pending requests into IO messages of descriptors
 *    (no page data: a message fits one page) and unicasts them to the
 *    attached daemon. A failed allocation or unicast puts the requests back
 *    and retries later.
 *  - The cookie is the request's blk-mq tag, a generation and the device.
 *    DONE finds the request with blk_mq_tag_to_rq(), checks the cookie,
 *    copies a read's data from the area into the bio and completes it.
 *  - Without a daemon, requests are held, and sent again to the next daemon
 *    that attaches, until HOLD_MS after they were first held; then they fail.
 *  - A device may also own a tier area: memory the driver only allocates,
 *    hands to the attached daemon (mmap) and frees with the device. It is the
 *    daemon's host tier, kept here so that it survives the daemon.
 *
 * Locking: valet_ctl_mutex serialises control (create, destroy, attach,
 * detach, status); valet_daemon_lock protects who the daemon is; each
 * hardware queue's lock (IRQ-safe) protects its lists and the driver state of
 * its requests; each device's area_lock protects the area's block maps; the
 * device's lock protects its open count. No two spinlocks are ever nested.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
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
#define VALET_AREA_BLOCKS(bytes)	((bytes) / VALET_BLOCK_SIZE)

/*
 * IO messages: descriptors only, at most VALET_MSG_REQS of them, so that a
 * message stays within NLMSG_GOODSIZE: one page, never a vmalloc.
 */
#define VALET_REQ_BYTES		96	/* one REQ nest, rounded up */
#define VALET_MSG_REQS		32
/* Messages one run of a queue's work item sends before it yields. */
#define VALET_WORK_MSGS		16
/* Retry delays after a failed allocation or unicast. */
#define VALET_RETRY_MIN_MS	5
#define VALET_RETRY_MAX_MS	1000

/*
 * Cookie: the device index in bits 63..48, the request's generation in bits
 * 47..32 (it changes with every send), blk_mq_unique_tag() below.
 */
#define VALET_COOKIE_INDEX_SHIFT	48
#define VALET_COOKIE_GEN_SHIFT		32

enum valet_stat {
	VALET_ST_READS,
	VALET_ST_WRITES,
	VALET_ST_READ_BYTES,
	VALET_ST_WRITE_BYTES,
	VALET_ST_ERRORS,
	VALET_ST_TIMEOUTS,
	VALET_ST_RESENT,
	VALET_ST_REJECTED,
	/* Not in the contiguous STAT_READS..STAT_REJECTED range: */
	VALET_ST_BUSY,
	VALET_ST_MESSAGES,
	VALET_ST_QUEUED_NS,
	VALET_ST_SERVED_NS,
	VALET_NR_STATS,
};

/* Where a request is, as far as the driver is concerned. */
enum valet_rq_state {
	VALET_RQ_IDLE,		/* not ours (never queued, or completed) */
	VALET_RQ_PENDING,	/* on queue->pending: to be sent, or held */
	VALET_RQ_SENDING,	/* taken by the work item into a message */
	VALET_RQ_INFLIGHT,	/* on queue->inflight: the daemon has it */
	VALET_RQ_DONE,		/* owned by whoever is completing it */
};

/* The driver's part of every request (blk_mq_rq_to_pdu). */
struct valet_pdu {
	struct list_head node;		/* pending, inflight or a local list */
	u64 cookie;			/* of the last send */
	unsigned long hold_start;	/* jiffies, when first held */
	u64 queued_ns;			/* when queue_rq or a requeue saw it */
	u64 sent_ns;			/* when its last IO message left */
	u32 buf;			/* first block in the data area */
	u32 blocks;			/* blocks of the area it holds, or 0 */
	blk_status_t status;		/* for valet_complete_rq */
	u16 gen;			/* generation, bumped by every send */
	u8 state;			/* enum valet_rq_state */
	bool held;			/* hold_start is set */
	bool sent;			/* a daemon was sent it before */
	bool prev_sent;			/* sent, before the last send */
	bool quarantine;		/* failed while the daemon had it */
};

struct valet_dev;

/* Per hardware queue: its own lock, lists and sender (hctx->driver_data). */
struct valet_queue {
	struct valet_dev *dev;
	unsigned int index;

	spinlock_t lock;		/* protects what follows */
	struct list_head pending;
	struct list_head inflight;
	unsigned int nr_inflight;
	bool dying;
	bool attached;			/* a daemon is attached */
	u64 epoch;			/* of that daemon */

	/* The work item and what only it touches. */
	struct delayed_work work;
	unsigned int retry_ms;
	struct valet_pdu *sent[VALET_MSG_REQS];
	u64 sent_cookie[VALET_MSG_REQS];
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
	struct valet_queue *queues;	/* nr_hw_queues of them */
	unsigned int nr_queues;

	/* The data area (see valet_uapi.h) and its block maps. */
	void *area;
	u64 area_bytes;
	spinlock_t area_lock;		/* guards the maps, hint and waiters */
	unsigned long *area_used;	/* held by a request */
	unsigned long *area_quarantine;	/* freed, but a daemon may write */
	unsigned int area_blocks;
	unsigned int area_hint;		/* where the next search starts */
	bool area_waiters;		/* a request found no room */
	wait_queue_head_t area_wait;	/* queue_rq waiting for room */

	/* The tier area (see valet_uapi.h): only the daemon touches it. */
	void *tier;			/* NULL: none */
	u64 tier_bytes;

	spinlock_t lock;		/* protects open_count and dying */
	unsigned int open_count;
	bool dying;

	atomic64_t stats[VALET_NR_STATS];
};

static DEFINE_MUTEX(valet_ctl_mutex);
static DEFINE_XARRAY_ALLOC(valet_devs);	/* index -> struct valet_dev */

/* The daemon: valet_daemon_net is NULL while none is attached. */
static DEFINE_SPINLOCK(valet_daemon_lock);
static struct net *valet_daemon_net;
static u32 valet_daemon_portid;
static u64 valet_daemon_epoch;
static struct pid *valet_daemon_tgid;	/* the process that attached */
static u64 valet_epochs;		/* under valet_ctl_mutex */

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

static void valet_dev_free(struct valet_dev *d)
{
	bitmap_free(d->area_used);
	bitmap_free(d->area_quarantine);
	vfree(d->area);
	vfree(d->tier);
	kfree(d->queues);
	kfree_rcu(d, rcu);
}

static void valet_dev_put(struct valet_dev *d)
{
	if (refcount_dec_and_test(&d->ref))
		valet_dev_free(d);
}

/* Runs the queue's work item now (force) or when it is not already queued. */
static void valet_kick_locked(struct valet_queue *q, bool force)
{
	lockdep_assert_held(&q->lock);
	if (q->dying)
		return;
	if (force)
		mod_delayed_work(valet_wq, &q->work, 0);
	else
		queue_delayed_work(valet_wq, &q->work, 0);
}

static struct valet_queue *valet_rq_queue(struct request *rq)
{
	return rq->mq_hctx->driver_data;
}

/* ------------------------------------------------------------------ */
/* The data area                                                       */
/* ------------------------------------------------------------------ */

/* Gives @cmd a run of blocks for @rq's data; false: no room now. */
static bool valet_area_get(struct valet_dev *d, struct valet_pdu *cmd,
			   unsigned int blocks)
{
	unsigned long start, flags;

	spin_lock_irqsave(&d->area_lock, flags);
	start = bitmap_find_next_zero_area(d->area_used, d->area_blocks,
					   d->area_hint, blocks, 0);
	if (start >= d->area_blocks && d->area_hint)
		start = bitmap_find_next_zero_area(d->area_used,
						   d->area_blocks, 0, blocks,
						   0);
	if (start >= d->area_blocks) {
		d->area_waiters = true;
		spin_unlock_irqrestore(&d->area_lock, flags);
		return false;
	}
	bitmap_set(d->area_used, start, blocks);
	d->area_hint = start + blocks < d->area_blocks ? start + blocks : 0;
	spin_unlock_irqrestore(&d->area_lock, flags);
	cmd->buf = start;
	cmd->blocks = blocks;
	return true;
}

/* Room was freed: wake queue_rq sleepers, rerun queues that were pushed back. */
static void valet_area_wake(struct valet_dev *d)
{
	wake_up_all(&d->area_wait);
	blk_mq_run_hw_queues(d->disk->queue, true);
}

/*
 * Gives @cmd's blocks back. A request failed while the daemon had it goes to
 * quarantine instead: that daemon may still write there, so the blocks are
 * reused only once it is gone (valet_area_release_quarantine).
 */
static void valet_area_put(struct valet_dev *d, struct valet_pdu *cmd)
{
	unsigned long flags;
	bool wake;

	if (!cmd->blocks)
		return;
	spin_lock_irqsave(&d->area_lock, flags);
	if (cmd->quarantine)
		bitmap_set(d->area_quarantine, cmd->buf, cmd->blocks);
	else
		bitmap_clear(d->area_used, cmd->buf, cmd->blocks);
	wake = d->area_waiters && !cmd->quarantine;
	if (wake)
		d->area_waiters = false;
	spin_unlock_irqrestore(&d->area_lock, flags);
	cmd->blocks = 0;
	if (wake)
		valet_area_wake(d);
}

/* Called when no daemon can write to the area any more. */
static void valet_area_release_quarantine(struct valet_dev *d)
{
	unsigned long flags;
	bool wake;

	spin_lock_irqsave(&d->area_lock, flags);
	wake = !bitmap_empty(d->area_quarantine, d->area_blocks);
	bitmap_andnot(d->area_used, d->area_used, d->area_quarantine,
		      d->area_blocks);
	bitmap_zero(d->area_quarantine, d->area_blocks);
	if (wake)
		d->area_waiters = false;
	spin_unlock_irqrestore(&d->area_lock, flags);
	if (wake)
		valet_area_wake(d);
}

/*
 * Gives @cmd @blocks of the area, sleeping until completions free enough
 * (queue_rq may sleep: BLK_MQ_F_BLOCKING). The submitter waits here as it
 * would for a tag, so a device that cannot keep up, or a daemon restarting,
 * throttles the reclaim that issued the swap-out: with RESOURCE alone,
 * reclaim would find every page of a small memory cgroup under writeback and
 * OOM-kill it within a second. A request that may not wait (REQ_NOWAIT) gets
 * BLK_STS_RESOURCE and waits in the block layer; so does one on a dying
 * device, which then fails.
 */
static blk_status_t valet_area_wait(struct valet_queue *q,
				    struct valet_pdu *cmd, unsigned int blocks,
				    bool nowait)
{
	struct valet_dev *d = q->dev;
	unsigned long flags;

	if (valet_area_get(d, cmd, blocks))
		return BLK_STS_OK;
	atomic64_inc(&d->stats[VALET_ST_BUSY]);
	if (nowait)
		return BLK_STS_RESOURCE;
	/*
	 * The requests queue_rq already took in this batch hold blocks too,
	 * and go to the daemon only at the batch's end (bd->last, commit_rqs):
	 * send them before sleeping, or the completions that would free the
	 * room never come (a swap-out plug of large merged writes fills the
	 * area within one batch).
	 */
	spin_lock_irqsave(&q->lock, flags);
	if (!list_empty(&q->pending))
		valet_kick_locked(q, false);
	spin_unlock_irqrestore(&q->lock, flags);
	io_wait_event(d->area_wait, valet_area_get(d, cmd, blocks) ||
		      READ_ONCE(d->dying));
	return cmd->blocks ? BLK_STS_OK : BLK_STS_IOERR;
}

static void *valet_area_ptr(struct valet_dev *d, struct valet_pdu *cmd)
{
	return d->area + (size_t)cmd->buf * VALET_BLOCK_SIZE;
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

/* ------------------------------------------------------------------ */
/* Requests: hold clock, states                                        */
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

/* Takes an in-flight request away from the daemon. */
static void valet_unflight_locked(struct valet_queue *q, struct valet_pdu *cmd)
{
	list_del_init(&cmd->node);
	q->nr_inflight--;
}

/* Puts a request back at the head of the pending list. */
static void valet_requeue_locked(struct valet_queue *q, struct valet_pdu *cmd)
{
	cmd->state = VALET_RQ_PENDING;
	cmd->queued_ns = ktime_get_ns();
	if (!q->attached)
		valet_hold_locked(cmd);
	list_move(&cmd->node, &q->pending);
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
	struct valet_queue *q = hctx->driver_data;
	struct valet_dev *d = q->dev;
	struct request *rq = bd->rq;
	struct valet_pdu *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;
	blk_status_t ret;

	cmd->blocks = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		if (blk_rq_bytes(rq) > VALET_MAX_IO_BYTES ||
		    !IS_ALIGNED(blk_rq_bytes(rq), VALET_BLOCK_SIZE))
			return BLK_STS_IOERR;
		ret = valet_area_wait(q, cmd, blk_rq_bytes(rq) /
				      VALET_BLOCK_SIZE,
				      rq->cmd_flags & REQ_NOWAIT);
		if (ret != BLK_STS_OK)
			return ret;
		break;
	case REQ_OP_FLUSH:
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	blk_mq_start_request(rq);
	if (req_op(rq) == REQ_OP_WRITE)
		valet_copy_from_rq(rq, valet_area_ptr(d, cmd));
	cmd->status = BLK_STS_OK;
	cmd->held = false;
	cmd->sent = false;
	cmd->quarantine = false;
	cmd->queued_ns = ktime_get_ns();

	spin_lock_irqsave(&q->lock, flags);
	if (q->dying) {
		spin_unlock_irqrestore(&q->lock, flags);
		valet_area_put(d, cmd);
		return BLK_STS_IOERR;
	}
	cmd->state = VALET_RQ_PENDING;
	if (!q->attached)
		valet_hold_locked(cmd);
	list_add_tail(&cmd->node, &q->pending);
	if (bd->last)
		valet_kick_locked(q, false);
	spin_unlock_irqrestore(&q->lock, flags);
	return BLK_STS_OK;
}

/* The end of a batch whose last request queue_rq did not see. */
static void valet_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct valet_queue *q = hctx->driver_data;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	if (!list_empty(&q->pending))
		valet_kick_locked(q, false);
	spin_unlock_irqrestore(&q->lock, flags);
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
	valet_area_put(d, cmd);
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
	struct valet_queue *q = valet_rq_queue(rq);
	struct valet_dev *d = q->dev;
	struct valet_pdu *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;

	atomic64_inc(&d->stats[VALET_ST_TIMEOUTS]);
	spin_lock_irqsave(&q->lock, flags);
	if (cmd->state != VALET_RQ_PENDING && cmd->state != VALET_RQ_INFLIGHT) {
		/* Being sent or being completed: its owner finishes it. */
		spin_unlock_irqrestore(&q->lock, flags);
		return BLK_EH_RESET_TIMER;
	}
	valet_hold_locked(cmd);
	if (!valet_hold_expired(d, cmd, jiffies)) {
		spin_unlock_irqrestore(&q->lock, flags);
		return BLK_EH_RESET_TIMER;
	}
	if (cmd->state == VALET_RQ_INFLIGHT) {
		valet_unflight_locked(q, cmd);
		cmd->quarantine = true;	/* the daemon may still write */
	} else {
		list_del_init(&cmd->node);
	}
	cmd->state = VALET_RQ_DONE;
	spin_unlock_irqrestore(&q->lock, flags);

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
	cmd->state = VALET_RQ_IDLE;
	cmd->blocks = 0;
	return 0;
}

static int valet_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			   unsigned int hctx_idx)
{
	struct valet_dev *d = data;

	if (hctx_idx >= d->nr_queues)
		return -EINVAL;
	hctx->driver_data = &d->queues[hctx_idx];
	return 0;
}

static const struct blk_mq_ops valet_mq_ops = {
	.queue_rq	= valet_queue_rq,
	.commit_rqs	= valet_commit_rqs,
	.complete	= valet_complete_rq,
	.timeout	= valet_timeout,
	.init_request	= valet_init_request,
	.init_hctx	= valet_init_hctx,
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

static int valet_put_req(struct sk_buff *skb, struct valet_dev *d,
			 struct valet_pdu *cmd)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct nlattr *nest;
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
	if (nla_put_u64_64bit(skb, VALET_REQ_COOKIE, cmd->cookie,
			      VALET_REQ_PAD) ||
	    nla_put_u8(skb, VALET_REQ_OP, op) ||
	    nla_put_u64_64bit(skb, VALET_REQ_OFFSET, offset, VALET_REQ_PAD) ||
	    nla_put_u32(skb, VALET_REQ_LENGTH, length))
		return -EMSGSIZE;
	if (op != VALET_OP_FLUSH &&
	    nla_put_u32(skb, VALET_REQ_BUF, cmd->buf * VALET_BLOCK_SIZE))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * Builds one IO message for the requests on @batch (owned by the caller,
 * state SENDING) and gives each a new cookie: its tag, the next generation.
 * NULL: no memory.
 */
static struct sk_buff *valet_build_io(struct valet_dev *d,
				      struct list_head *batch, gfp_t gfp)
{
	struct valet_pdu *cmd;
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!skb)
		return NULL;
	hdr = genlmsg_put(skb, 0, 0, &valet_family, 0, VALET_CMD_IO);
	if (!hdr || nla_put_u32(skb, VALET_ATTR_INDEX, d->index))
		goto overflow;
	list_for_each_entry(cmd, batch, node) {
		cmd->gen++;
		cmd->cookie = ((u64)d->index << VALET_COOKIE_INDEX_SHIFT) |
			      ((u64)cmd->gen << VALET_COOKIE_GEN_SHIFT) |
			      blk_mq_unique_tag(blk_mq_rq_from_pdu(cmd));
		if (valet_put_req(skb, d, cmd))
			goto overflow;
	}
	genlmsg_end(skb, hdr);
	return skb;

overflow:
	/* VALET_MSG_REQS fit in NLMSG_GOODSIZE: a bug, not a lack of memory. */
	pr_err_ratelimited("valet%u: IO message overflowed\n", d->index);
	nlmsg_free(skb);
	return ERR_PTR(-EMSGSIZE);
}

/* Puts the requests of @batch back at the head of the pending list. */
static void valet_requeue_batch(struct valet_queue *q, struct list_head *batch)
{
	struct valet_pdu *cmd, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	list_for_each_entry_safe_reverse(cmd, tmp, batch, node)
		valet_requeue_locked(q, cmd);
	spin_unlock_irqrestore(&q->lock, flags);
}

/* A unicast failed: takes the requests that are still in flight back. */
static void valet_unsend(struct valet_queue *q, unsigned int n)
{
	struct valet_pdu *cmd;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	while (n--) {
		cmd = q->sent[n];
		/* Completed (and maybe reused) meanwhile: not ours to take. */
		if (cmd->state != VALET_RQ_INFLIGHT ||
		    cmd->cookie != q->sent_cookie[n])
			continue;
		valet_unflight_locked(q, cmd);
		if (cmd->prev_sent)
			atomic64_dec(&q->dev->stats[VALET_ST_RESENT]);
		cmd->sent = cmd->prev_sent;
		valet_requeue_locked(q, cmd);
	}
	spin_unlock_irqrestore(&q->lock, flags);
}

/*
 * Sends one IO message. Returns 1 when it sent one (or should be called
 * again), 0 when there is nothing to send or no daemon, a negative errno
 * when it failed and the requests are back on the pending list.
 */
static int valet_send(struct valet_queue *q)
{
	struct valet_dev *d = q->dev;
	struct valet_pdu *cmd, *tmp;
	LIST_HEAD(batch);
	struct sk_buff *skb;
	unsigned long flags;
	unsigned int n = 0;
	u64 epoch, now, queued = 0;
	struct net *net;
	u32 portid;
	int ret;

	if (!valet_daemon_snapshot(&net, &portid, &epoch))
		return 0;

	spin_lock_irqsave(&q->lock, flags);
	list_for_each_entry_safe(cmd, tmp, &q->pending, node) {
		if (n == VALET_MSG_REQS)
			break;
		cmd->state = VALET_RQ_SENDING;
		list_move_tail(&cmd->node, &batch);
		n++;
	}
	spin_unlock_irqrestore(&q->lock, flags);
	if (!n) {
		put_net(net);
		return 0;
	}

	/* One page; the reserves may be used: a swap-out is what frees memory. */
	skb = valet_build_io(d, &batch, GFP_NOIO | __GFP_NOWARN);
	if (!skb)
		skb = valet_build_io(d, &batch,
				     GFP_NOIO | __GFP_NOWARN | __GFP_MEMALLOC);
	if (IS_ERR_OR_NULL(skb)) {
		put_net(net);
		if (!skb) {
			valet_requeue_batch(q, &batch);
			return -ENOMEM;
		}
		valet_fail_list(&batch);
		return 1;
	}

	/* Publish: from here DONE may complete them, do not touch them. */
	spin_lock_irqsave(&q->lock, flags);
	if (q->dying || !q->attached || q->epoch != epoch) {
		/* The daemon changed while the message was built. */
		list_for_each_entry_safe_reverse(cmd, tmp, &batch, node)
			valet_requeue_locked(q, cmd);
		spin_unlock_irqrestore(&q->lock, flags);
		nlmsg_free(skb);
		put_net(net);
		return 1;
	}
	n = 0;
	now = ktime_get_ns();
	list_for_each_entry_safe(cmd, tmp, &batch, node) {
		queued += now - cmd->queued_ns;
		cmd->sent_ns = now;
		list_move_tail(&cmd->node, &q->inflight);
		cmd->state = VALET_RQ_INFLIGHT;
		cmd->prev_sent = cmd->sent;
		if (cmd->sent)
			atomic64_inc(&d->stats[VALET_ST_RESENT]);
		cmd->sent = true;
		q->sent[n] = cmd;
		q->sent_cookie[n++] = cmd->cookie;
		q->nr_inflight++;
	}
	spin_unlock_irqrestore(&q->lock, flags);

	ret = genlmsg_unicast(net, skb, portid);
	put_net(net);
	if (ret) {
		pr_debug("valet%u: unicast to port %u failed: %d\n",
			 d->index, portid, ret);
		valet_unsend(q, n);
		return ret;
	}
	atomic64_inc(&d->stats[VALET_ST_MESSAGES]);
	atomic64_add(queued, &d->stats[VALET_ST_QUEUED_NS]);
	return 1;
}

/* Fails the pending requests whose hold deadline has passed. */
static void valet_reap(struct valet_queue *q)
{
	unsigned long now = jiffies, flags;
	struct valet_pdu *cmd, *tmp;
	LIST_HEAD(expired);
	unsigned int n = 0;

	spin_lock_irqsave(&q->lock, flags);
	list_for_each_entry_safe(cmd, tmp, &q->pending, node) {
		if (valet_hold_expired(q->dev, cmd, now)) {
			cmd->state = VALET_RQ_DONE;
			list_move_tail(&cmd->node, &expired);
			n++;
		}
	}
	spin_unlock_irqrestore(&q->lock, flags);
	if (n)
		pr_warn_ratelimited("valet%u: %u request(s) failed: no daemon within %u ms\n",
				    q->dev->index, n, q->dev->hold_ms);
	valet_fail_list(&expired);
}

static void valet_work(struct work_struct *work)
{
	struct valet_queue *q = container_of(to_delayed_work(work),
					     struct valet_queue, work);
	unsigned int noio = memalloc_noio_save();
	unsigned long now, flags, delay = 0;
	struct valet_pdu *cmd;
	bool rearm = false;
	int i, ret = 0;

	for (i = 0; i < VALET_WORK_MSGS; i++) {
		if (READ_ONCE(q->dying))
			goto out;
		valet_reap(q);
		ret = valet_send(q);
		if (ret <= 0)
			break;
	}

	if (ret < 0) {
		if (q->retry_ms == VALET_RETRY_MAX_MS)
			pr_warn_ratelimited("valet%u: cannot send to the daemon (%d), retrying\n",
					    q->dev->index, ret);
		q->retry_ms = clamp(q->retry_ms * 2, VALET_RETRY_MIN_MS,
				    VALET_RETRY_MAX_MS);
		delay = msecs_to_jiffies(q->retry_ms);
		rearm = true;
	} else if (i == VALET_WORK_MSGS) {
		q->retry_ms = 0;
		rearm = true;		/* more to send: yield, then go on */
	} else {
		q->retry_ms = 0;
	}

	spin_lock_irqsave(&q->lock, flags);
	if (!rearm) {
		/* Wake up at the first hold deadline, if any. */
		now = jiffies;
		list_for_each_entry(cmd, &q->pending, node) {
			unsigned long left;

			if (!cmd->held)
				continue;
			left = valet_hold_expired(q->dev, cmd, now) ? 0 :
			       cmd->hold_start + q->dev->hold_jiffies - now;
			if (!rearm || left < delay)
				delay = left;
			rearm = true;
		}
	}
	if (rearm && !q->dying)
		queue_delayed_work(valet_wq, &q->work, delay);
	spin_unlock_irqrestore(&q->lock, flags);
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
		.max_hw_sectors		= VALET_MAX_IO_BYTES >> SECTOR_SHIFT,
		.max_segments		= VALET_MAX_IO_BYTES / PAGE_SIZE,
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
	blk_queue_max_hw_sectors(q, VALET_MAX_IO_BYTES >> SECTOR_SHIFT);
	blk_queue_max_segments(q, VALET_MAX_IO_BYTES / PAGE_SIZE);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	/* A write cache, so that flushes reach the daemon (README.md). */
	blk_queue_write_cache(q, true, false);
#endif
	return disk;
}

/* The per-queue state and the areas: everything a device allocates. */
static int valet_dev_alloc_state(struct valet_dev *d, u64 area_bytes,
				 u64 tier_bytes)
{
	unsigned int i;

	d->nr_queues = nr_cpu_ids;
	d->queues = kcalloc(d->nr_queues, sizeof(*d->queues), GFP_KERNEL);
	if (!d->queues)
		return -ENOMEM;
	for (i = 0; i < d->nr_queues; i++) {
		struct valet_queue *q = &d->queues[i];

		q->dev = d;
		q->index = i;
		spin_lock_init(&q->lock);
		INIT_LIST_HEAD(&q->pending);
		INIT_LIST_HEAD(&q->inflight);
		INIT_DELAYED_WORK(&q->work, valet_work);
	}
	/* Zeroed, and mappable to user space (VM_USERMAP). */
	d->area = vmalloc_user(area_bytes);
	d->area_bytes = area_bytes;
	d->area_blocks = VALET_AREA_BLOCKS(area_bytes);
	d->area_used = bitmap_zalloc(d->area_blocks, GFP_KERNEL);
	d->area_quarantine = bitmap_zalloc(d->area_blocks, GFP_KERNEL);
	if (!d->area || !d->area_used || !d->area_quarantine)
		return -ENOMEM;
	spin_lock_init(&d->area_lock);
	init_waitqueue_head(&d->area_wait);
	if (tier_bytes) {
		/* Zeroed: a new tier holds nothing. Freed only with the device. */
		d->tier = vmalloc_user(tier_bytes);
		if (!d->tier)
			return -ENOMEM;
		d->tier_bytes = tier_bytes;
	}
	return 0;
}

/*
 * Sets every queue's copy of who the daemon is and, with @kick, runs their
 * work items: to re-send what is held, or to reap it on time.
 */
static void valet_dev_set_daemon(struct valet_dev *d, bool attached, u64 epoch,
				 bool kick)
{
	unsigned int i;

	for (i = 0; i < d->nr_queues; i++) {
		struct valet_queue *q = &d->queues[i];
		struct valet_pdu *cmd, *tmp;

		spin_lock_irq(&q->lock);
		q->attached = attached;
		q->epoch = epoch;
		if (!attached) {
			/* In flight goes back ahead of the others; all held. */
			list_for_each_entry_safe_reverse(cmd, tmp,
							 &q->inflight, node)
				valet_requeue_locked(q, cmd);
			q->nr_inflight = 0;
			list_for_each_entry(cmd, &q->pending, node)
				valet_hold_locked(cmd);
		}
		if (kick)
			valet_kick_locked(q, true);
		spin_unlock_irq(&q->lock);
	}
}

/* Called with valet_ctl_mutex held. */
static struct valet_dev *valet_dev_create(u64 size, u32 queue_depth,
					  u32 hold_ms, u32 io_timeout_ms,
					  u64 area_bytes, u64 tier_bytes)
{
	struct gendisk *disk;
	struct valet_dev *d;
	bool attached;
	u32 index;
	u64 epoch;
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
	ret = valet_dev_alloc_state(d, area_bytes, tier_bytes);
	if (ret) {
		valet_dev_free(d);
		return ERR_PTR(ret);
	}

	spin_lock(&valet_daemon_lock);
	attached = !!valet_daemon_net;
	epoch = valet_daemon_epoch;
	spin_unlock(&valet_daemon_lock);
	valet_dev_set_daemon(d, attached, epoch, false);

	/* From here DONE and the data device can find it. */
	ret = xa_alloc(&valet_devs, &index, d,
		       XA_LIMIT(0, VALET_MAX_DEVICES - 1), GFP_KERNEL);
	if (ret) {
		valet_dev_free(d);
		return ERR_PTR(ret == -EBUSY ? -ENOSPC : ret);
	}
	d->index = index;

	d->tag_set.ops = &valet_mq_ops;
	d->tag_set.nr_hw_queues = d->nr_queues;
	d->tag_set.nr_maps = 1;
	d->tag_set.queue_depth = queue_depth;
	d->tag_set.numa_node = NUMA_NO_NODE;
	d->tag_set.cmd_size = sizeof(struct valet_pdu);
	d->tag_set.timeout = msecs_to_jiffies(io_timeout_ms);
	d->tag_set.driver_data = d;
	/* Blocking: queue_rq may sleep for room in the area. */
	d->tag_set.flags = BLK_MQ_F_NO_SCHED_BY_DEFAULT | BLK_MQ_F_BLOCKING;
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

	pr_info("valet%u: %llu bytes, %u queues of depth %u, data area %llu bytes, tier area %llu bytes, hold %u ms, I/O timeout %u ms\n",
		index, size, d->nr_queues, queue_depth, area_bytes, tier_bytes,
		hold_ms, io_timeout_ms);
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
	unsigned int n = 0, i;

	xa_erase(&valet_devs, d->index);
	for (i = 0; i < d->nr_queues; i++) {
		struct valet_queue *q = &d->queues[i];

		spin_lock_irq(&q->lock);
		q->dying = true;
		spin_unlock_irq(&q->lock);
		cancel_delayed_work_sync(&q->work);

		spin_lock_irq(&q->lock);
		list_for_each_entry_safe(cmd, tmp, &q->inflight, node) {
			cmd->state = VALET_RQ_DONE;
			list_move_tail(&cmd->node, &abort);
			n++;
		}
		q->nr_inflight = 0;
		list_for_each_entry_safe(cmd, tmp, &q->pending, node) {
			cmd->state = VALET_RQ_DONE;
			list_move_tail(&cmd->node, &abort);
			n++;
		}
		spin_unlock_irq(&q->lock);
	}
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
/* The data device: the daemon maps the areas from /dev/valet-data      */
/* ------------------------------------------------------------------ */

static bool valet_is_daemon_process(void)
{
	bool is;

	spin_lock(&valet_daemon_lock);
	is = valet_daemon_net && valet_daemon_tgid == task_tgid(current);
	spin_unlock(&valet_daemon_lock);
	return is;
}

static int valet_data_open(struct inode *inode, struct file *file)
{
	return capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

/*
 * Maps device INDEX's data area (offset VALET_DATA_MMAP_OFFSET(INDEX)) or
 * its tier area (VALET_TIER_MMAP_OFFSET(INDEX)), shared, at most the area's
 * size. Only the attached daemon's process may.
 */
static int valet_data_mmap(struct file *file, struct vm_area_struct *vma)
{
	const unsigned long shift = VALET_DATA_MMAP_SHIFT - PAGE_SHIFT;
	const unsigned long tier = BIT(VALET_TIER_MMAP_SHIFT - PAGE_SHIFT);
	unsigned long size = vma->vm_end - vma->vm_start;
	unsigned long index = vma->vm_pgoff >> shift;
	unsigned long within = vma->vm_pgoff & (BIT(shift) - 1);
	struct valet_dev *d;
	void *area;
	u64 bytes;
	int ret;

	if (!valet_is_daemon_process())
		return -EPERM;
	if ((within && within != tier) || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	d = valet_dev_get(index);
	if (!d)
		return -ENODEV;
	area = within ? d->tier : d->area;
	bytes = within ? d->tier_bytes : d->area_bytes;
	ret = !area || size > bytes ? -EINVAL :
	      remap_vmalloc_range(vma, area, 0);
	valet_dev_put(d);
	return ret;
}

static const struct file_operations valet_data_fops = {
	.owner		= THIS_MODULE,
	.open		= valet_data_open,
	.mmap		= valet_data_mmap,
	.llseek		= noop_llseek,
};

static struct miscdevice valet_data_dev = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "valet-data",
	.fops		= &valet_data_fops,
	.mode		= 0600,
};

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
	struct valet_dev *d;
	unsigned long index;
	struct pid *tgid;
	struct net *net;
	u32 portid;

	spin_lock(&valet_daemon_lock);
	net = valet_daemon_net;
	portid = valet_daemon_portid;
	tgid = valet_daemon_tgid;
	valet_daemon_net = NULL;
	valet_daemon_portid = 0;
	valet_daemon_epoch = 0;
	valet_daemon_tgid = NULL;
	spin_unlock(&valet_daemon_lock);
	if (!net)
		return;

	xa_for_each(&valet_devs, index, d) {
		valet_dev_set_daemon(d, false, 0, true);
		valet_area_release_quarantine(d);
	}
	put_pid(tgid);
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
				    "valet: VERSION differs: this driver speaks VALET version "
				    __stringify(VALET_GENL_VERSION));
		return -EPROTO;
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
	valet_daemon_tgid = get_pid(task_tgid(current));
	epoch = valet_daemon_epoch;
	spin_unlock(&valet_daemon_lock);

	xa_for_each(&valet_devs, index, d)
		valet_dev_set_daemon(d, true, epoch, true);
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
	u64 area_bytes = VALET_DEF_DATA_BYTES;
	u32 hold_ms = VALET_DEF_HOLD_MS;
	u64 tier_bytes = 0;
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
	if (attrs[VALET_ATTR_DATA_BYTES]) {
		area_bytes = nla_get_u64(attrs[VALET_ATTR_DATA_BYTES]);
		if (!IS_ALIGNED(area_bytes, VALET_BLOCK_SIZE)) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[VALET_ATTR_DATA_BYTES],
					    "valet: DATA_BYTES is not a multiple of 4096");
			return -EINVAL;
		}
	}
	if (attrs[VALET_ATTR_TIER_BYTES]) {
		tier_bytes = nla_get_u64(attrs[VALET_ATTR_TIER_BYTES]);
		if (tier_bytes > VALET_MAX_TIER_BYTES) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[VALET_ATTR_TIER_BYTES],
					    "valet: TIER_BYTES is above VALET_MAX_TIER_BYTES (1 GiB)");
			return -ERANGE;
		}
		if (!IS_ALIGNED(tier_bytes, VALET_BLOCK_SIZE)) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[VALET_ATTR_TIER_BYTES],
					    "valet: TIER_BYTES is not a multiple of 4096");
			return -EINVAL;
		}
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
	d = valet_dev_create(size, queue_depth, hold_ms, io_timeout_ms,
			     area_bytes, tier_bytes);
	if (!IS_ERR(d))
		index = d->index;
	mutex_unlock(&valet_ctl_mutex);
	if (IS_ERR(d)) {
		nlmsg_free(reply);
		if (PTR_ERR(d) == -ENOSPC)
			NL_SET_ERR_MSG(info->extack, "valet: too many devices");
		else if (PTR_ERR(d) == -ENOMEM)
			NL_SET_ERR_MSG(info->extack,
				       "valet: no memory for the device or its areas");
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

static void valet_mark_dying(struct valet_dev *d)
{
	spin_lock_irq(&d->lock);
	WRITE_ONCE(d->dying, true);
	spin_unlock_irq(&d->lock);
	wake_up_all(&d->area_wait);	/* queue_rq sleepers fail */
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
	spin_unlock_irq(&d->lock);
	valet_mark_dying(d);
	valet_dev_destroy(d);
out:
	mutex_unlock(&valet_ctl_mutex);
	return ret;
}

static int valet_fill_status(struct sk_buff *skb, struct valet_dev *d,
			     u32 portid, u32 seq, int flags)
{
	unsigned int inflight = 0, held = 0, i;
	struct valet_pdu *cmd;
	unsigned long irqflags;
	bool attached = false;
	void *hdr;

	for (i = 0; i < d->nr_queues; i++) {
		struct valet_queue *q = &d->queues[i];

		spin_lock_irqsave(&q->lock, irqflags);
		inflight += q->nr_inflight;
		list_for_each_entry(cmd, &q->pending, node)
			held += cmd->held;
		attached |= q->attached;
		spin_unlock_irqrestore(&q->lock, irqflags);
	}

	hdr = genlmsg_put(skb, portid, seq, &valet_family, flags,
			  VALET_CMD_STATUS);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, VALET_ATTR_INDEX, d->index) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_SIZE, d->size, VALET_ATTR_PAD) ||
	    nla_put_u32(skb, VALET_ATTR_QUEUE_DEPTH, d->queue_depth) ||
	    nla_put_u32(skb, VALET_ATTR_HOLD_MS, d->hold_ms) ||
	    nla_put_u32(skb, VALET_ATTR_IO_TIMEOUT_MS, d->io_timeout_ms) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_DATA_BYTES, d->area_bytes,
			      VALET_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_TIER_BYTES, d->tier_bytes,
			      VALET_ATTR_PAD) ||
	    nla_put_u8(skb, VALET_ATTR_ATTACHED, attached) ||
	    nla_put_u32(skb, VALET_ATTR_STAT_INFLIGHT, inflight) ||
	    nla_put_u32(skb, VALET_ATTR_STAT_HELD, held) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_STAT_BUSY,
			      atomic64_read(&d->stats[VALET_ST_BUSY]),
			      VALET_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_STAT_MESSAGES,
			      atomic64_read(&d->stats[VALET_ST_MESSAGES]),
			      VALET_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_STAT_QUEUED_NS,
			      atomic64_read(&d->stats[VALET_ST_QUEUED_NS]),
			      VALET_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, VALET_ATTR_STAT_SERVED_NS,
			      atomic64_read(&d->stats[VALET_ST_SERVED_NS]),
			      VALET_ATTR_PAD))
		goto cancel;
	for (i = 0; i <= VALET_ST_REJECTED; i++)
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

/* The in-flight request a cookie names, with its queue locked; or NULL. */
static struct valet_pdu *valet_lookup_lock(struct valet_dev *d, u64 cookie,
					   struct valet_queue **qp,
					   unsigned long *flags)
{
	u32 unique = lower_32_bits(cookie);
	u32 hwq = blk_mq_unique_tag_to_hwq(unique);
	struct valet_pdu *cmd;
	struct valet_queue *q;
	struct request *rq;

	if (hwq >= d->nr_queues || !d->tag_set.tags)
		return NULL;
	rq = blk_mq_tag_to_rq(d->tag_set.tags[hwq],
			      blk_mq_unique_tag_to_tag(unique));
	if (!rq)
		return NULL;
	q = &d->queues[hwq];
	cmd = blk_mq_rq_to_pdu(rq);
	spin_lock_irqsave(&q->lock, *flags);
	if (cmd->state != VALET_RQ_INFLIGHT || cmd->cookie != cookie) {
		spin_unlock_irqrestore(&q->lock, *flags);
		return NULL;
	}
	*qp = q;
	return cmd;
}

/*
 * One completion. Its request must be in flight with this very cookie (tag
 * and generation): anything else is refused (and counted) without touching
 * any request. A successful read's data is in the area: copied into the bio.
 */
static int valet_done_one(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	u64 cookie = nla_get_u64(tb[VALET_CPL_COOKIE]);
	s32 status = nla_get_s32(tb[VALET_CPL_STATUS]);
	struct valet_queue *q;
	struct valet_pdu *cmd;
	struct request *rq;
	struct valet_dev *d;
	unsigned long flags;

	d = valet_dev_get(cookie >> VALET_COOKIE_INDEX_SHIFT);
	if (!d) {
		NL_SET_ERR_MSG_ATTR(extack, tb[VALET_CPL_COOKIE],
				    "valet: unknown cookie (no such device)");
		return -ENOENT;
	}
	cmd = valet_lookup_lock(d, cookie, &q, &flags);
	if (!cmd) {
		atomic64_inc(&d->stats[VALET_ST_REJECTED]);
		valet_dev_put(d);
		NL_SET_ERR_MSG_ATTR(extack, tb[VALET_CPL_COOKIE],
				    "valet: unknown or stale cookie (not in flight)");
		return -ENOENT;
	}
	valet_unflight_locked(q, cmd);
	cmd->state = VALET_RQ_DONE;
	spin_unlock_irqrestore(&q->lock, flags);
	atomic64_add(ktime_get_ns() - cmd->sent_ns,
		     &d->stats[VALET_ST_SERVED_NS]);

	rq = blk_mq_rq_from_pdu(cmd);
	if (status == 0 && req_op(rq) == REQ_OP_READ)
		valet_copy_to_rq(rq, valet_area_ptr(d, cmd));
	cmd->status = status ? errno_to_blk_status(status) : BLK_STS_OK;
	blk_mq_complete_request(rq);
	valet_dev_put(d);
	return 0;
}

/* A DONE from a port that is not the daemon: counted, nothing else. */
static void valet_count_rejected(struct nlattr **tb)
{
	struct valet_dev *d;

	if (!tb[VALET_CPL_COOKIE])
		return;
	d = valet_dev_get(nla_get_u64(tb[VALET_CPL_COOKIE]) >>
			  VALET_COOKIE_INDEX_SHIFT);
	if (d) {
		atomic64_inc(&d->stats[VALET_ST_REJECTED]);
		valet_dev_put(d);
	}
}

static const struct nla_policy valet_cpl_policy[VALET_CPL_MAX + 1] = {
	[VALET_CPL_COOKIE]	= { .type = NLA_U64 },
	[VALET_CPL_STATUS]	= NLA_POLICY_RANGE(NLA_S32, -MAX_ERRNO, 0),
	[VALET_CPL_PAD]		= { .type = NLA_FLAG },
};

/*
 * DONE: the genetlink core has validated every CPL against its policy. One
 * walk: from a port that is not the daemon each CPL only counts as rejected
 * (EPERM); from the daemon each CPL completes its request or is refused on
 * its own (missing COOKIE or STATUS: EINVAL). The first refusal is the
 * message's error.
 */
static int valet_cmd_done(struct sk_buff *skb, struct genl_info *info)
{
	bool daemon = valet_is_daemon(genl_info_net(info), info->snd_portid);
	struct nlattr *tb[VALET_CPL_MAX + 1];
	struct nlattr *attr;
	int rem, ret;

	ret = valet_check_admin(skb, info->extack);
	if (ret)
		return ret;
	if (!info->attrs[VALET_ATTR_CPL]) {
		NL_SET_ERR_MSG(info->extack, "valet: DONE without CPL");
		return -EINVAL;
	}
	if (!daemon) {
		NL_SET_ERR_MSG(info->extack,
			       "valet: DONE from a port that is not the daemon");
		ret = -EPERM;
	}
	nla_for_each_attr(attr, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		int err;

		if (nla_type(attr) != VALET_ATTR_CPL ||
		    nla_parse_nested(tb, VALET_CPL_MAX, attr, valet_cpl_policy,
				     NULL))
			continue;
		if (!daemon) {
			valet_count_rejected(tb);
			continue;
		}
		if (!tb[VALET_CPL_COOKIE] || !tb[VALET_CPL_STATUS]) {
			valet_count_rejected(tb);
			if (!ret)
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "valet: CPL needs COOKIE and STATUS");
			err = -EINVAL;
		} else {
			err = valet_done_one(tb, ret ? NULL : info->extack);
		}
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

static struct netlink_range_validation valet_data_bytes_range = {
	.min = VALET_MIN_DATA_BYTES,
	.max = VALET_MAX_DATA_BYTES,
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
	[VALET_ATTR_DATA_BYTES]	= NLA_POLICY_FULL_RANGE(NLA_U64,
							&valet_data_bytes_range),
	/* Checked by CREATE itself, so that the refusal names the bound. */
	[VALET_ATTR_TIER_BYTES]	= { .type = NLA_U64 },
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

	BUILD_BUG_ON(VALET_MAX_IO_BYTES % VALET_BLOCK_SIZE);
	BUILD_BUG_ON(VALET_MIN_DATA_BYTES < VALET_MAX_IO_BYTES);
	BUILD_BUG_ON(VALET_MAX_DATA_BYTES / VALET_BLOCK_SIZE > U32_MAX);
	BUILD_BUG_ON(VALET_MAX_DEVICES > (1 << (64 - VALET_COOKIE_INDEX_SHIFT)));
	BUILD_BUG_ON(VALET_ATTR_STAT_READS + VALET_ST_REJECTED !=
		     VALET_ATTR_STAT_REJECTED);
	BUILD_BUG_ON(VALET_MSG_REQS * VALET_REQ_BYTES + GENL_HDRLEN +
		     NLA_HDRLEN * 2 > NLMSG_GOODSIZE);
	/* Each device's range: its data area, then (at the tier shift) its tier. */
	BUILD_BUG_ON(VALET_TIER_MMAP_SHIFT >= VALET_DATA_MMAP_SHIFT);
	BUILD_BUG_ON(VALET_MAX_DATA_BYTES > (1ULL << VALET_TIER_MMAP_SHIFT));
	BUILD_BUG_ON(VALET_MAX_TIER_BYTES > (1ULL << VALET_TIER_MMAP_SHIFT));
	/* CREATE's refusal names the bound as "1 GiB". */
	BUILD_BUG_ON(VALET_MAX_TIER_BYTES != SZ_1G);

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
	ret = misc_register(&valet_data_dev);
	if (ret)
		goto out_notifier;
	ret = genl_register_family(&valet_family);
	if (ret)
		goto out_misc;
	pr_info("loaded: generic netlink family %s version %d, requests up to %u bytes, data and tier areas on %s\n",
		VALET_GENL_NAME, VALET_GENL_VERSION, VALET_MAX_IO_BYTES,
		VALET_DATA_DEVICE);
	return 0;

out_misc:
	misc_deregister(&valet_data_dev);
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
	misc_deregister(&valet_data_dev);

	/* No device is open: an open one holds the module. */
	mutex_lock(&valet_ctl_mutex);
	xa_for_each(&valet_devs, index, d) {
		valet_mark_dying(d);
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
