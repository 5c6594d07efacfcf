package dev.valet.client.tier;

import org.agrona.collections.Long2LongHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Which dirty slots go to the donors next, and what their answers do: the tier's write-back rules. At most
 * {@code maxFlushing} pages in flight; at most one flush of a page at a time, so that an older version never lands
 * after a newer one; a flush that succeeds makes its slot clean only if the slot still holds the page's newest
 * version; one that fails leaves the page dirty and tries again after a backoff that doubles from
 * {@link #MIN_BACKOFF_NANOS} to {@link #MAX_BACKOFF_NANOS} while writes keep failing (a lost donor: the engine
 * fails or holds writes until re-replication has a place for them). Not thread safe: callers hold the tier's lock.
 */
final class Flusher {
    private static final Logger LOG = LoggerFactory.getLogger(Flusher.class);
    static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** While writes fail, one summary line per this long rather than one line per failure. */
    private static final long REPORT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SlotTable slots;
    private final FlushQueue queue;
    private final int maxFlushing;
    /** Page to the slot whose flush is in flight: one per page. */
    private final Long2LongHashMap inFlightPages;
    private int inFlight;
    private long backoffNanos = MIN_BACKOFF_NANOS;
    private long failuresSinceSuccess;
    private long lastReportNanos;
    private Throwable lastError;
    long flushed;
    long failures;

    Flusher(SlotTable slots, int maxFlushing) {
        this.slots = slots;
        this.queue = new FlushQueue(slots.count);
        this.maxFlushing = maxFlushing;
        this.inFlightPages = new Long2LongHashMap(2 * maxFlushing, 0.6f, SlotTable.NONE);
    }

    /** Queues a slot that {@link SlotTable#write} (or recovery) just made dirty. */
    void dirtied(int slot) {
        queue.add(slot);
    }

    int inFlight() {
        return inFlight;
    }

    /**
     * Marks up to {@code max} dirty slots as flushing and links them, oldest first, through {@link SlotTable#next}.
     *
     * @return the first slot of the list, or {@link SlotTable#NONE}
     */
    int pick(long nowNanos, int max) {
        int head = SlotTable.NONE;
        int tail = SlotTable.NONE;
        int picked = 0;
        while (picked < max && inFlight < maxFlushing) {
            int s = queue.poll(nowNanos);
            if (s == SlotTable.NONE) {
                break;
            }
            if (slots.state[s] != SlotTable.DIRTY || slots.flushing[s] || inFlightPages.containsKey(slots.page[s])) {
                continue; // superseded or reused meanwhile; or its page's older flush re-queues it when it ends
            }
            slots.flushing[s] = true;
            inFlight++;
            inFlightPages.put(slots.page[s], s);
            slots.next[s] = SlotTable.NONE;
            if (tail == SlotTable.NONE) {
                head = s;
            } else {
                slots.next[tail] = s;
            }
            tail = s;
            picked++;
        }
        return head;
    }

    /** The write of {@code slot} ended, with {@code error} null if the donors have the page. */
    void done(int slot, Throwable error, long nowNanos) {
        long page = slots.page[slot];
        slots.flushing[slot] = false;
        inFlight--;
        inFlightPages.remove(page);
        if (error == null) {
            flushed++;
            slots.flushed(slot);
            succeeded();
        } else {
            failures++;
            if (slots.state[slot] == SlotTable.DIRTY) {
                queue.retryAt(slot, nowNanos + backoffNanos);
            }
            backoffNanos = Math.min(2 * backoffNanos, MAX_BACKOFF_NANOS);
            failed(page, error, nowNanos);
        }
        slots.releaseIfRetired(slot);
        int newer = slots.newest(page);
        if (newer != SlotTable.NONE && newer != slot && slots.state[newer] == SlotTable.DIRTY
                && !slots.flushing[newer]) {
            queue.add(newer); // it waited for this older flush
        }
    }

    private void succeeded() {
        backoffNanos = MIN_BACKOFF_NANOS;
        if (failuresSinceSuccess > 0) {
            LOG.info("host tier: writes to the donors succeed again after {} failures; {} dirty pages left",
                    failuresSinceSuccess, slots.dirty());
            failuresSinceSuccess = 0;
            lastError = null;
        }
    }

    private void failed(long page, Throwable error, long nowNanos) {
        lastError = error;
        if (failuresSinceSuccess++ == 0) {
            lastReportNanos = nowNanos;
            LOG.warn("host tier: writing page {} to the donors failed ({}); it stays in the tier and is tried again"
                    + " (backoff up to {} ms); {} dirty pages", page, error.toString(),
                    TimeUnit.NANOSECONDS.toMillis(MAX_BACKOFF_NANOS), slots.dirty());
        } else if (nowNanos - lastReportNanos >= REPORT_NANOS) {
            lastReportNanos = nowNanos;
            LOG.warn("host tier: {} writes to the donors failed since the last success (last: {}); {} dirty pages"
                    + " wait in the tier, {} of them for a retry", failuresSinceSuccess, error.toString(),
                    slots.dirty(), queue.retries());
        }
    }

    /** The error of the last failed write if none succeeded since, else null: for progress reports. */
    Throwable lastError() {
        return lastError;
    }
}
