package dev.valet.client.tier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Rebuilds the tier's bookkeeping from its memory when a daemon opens it: every slot DIRTY in memory whose data
 * still has its CRC is a page acknowledged and perhaps not yet on the donors; of several versions of a page the
 * highest wins; everything else (FREE, CLEAN, and damaged slots) becomes free. Clean pages are not kept: the donors
 * have them, and a daemon that ran without the tier meanwhile may have written newer ones there.
 */
final class TierRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(TierRecovery.class);
    private static final long REPORT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private TierRecovery() {
    }

    /**
     * Fills {@code slots} from {@code layout} and queues the dirty pages on {@code flusher}.
     *
     * @return the dirty pages found
     * @throws IllegalStateException when a dirty page lies beyond {@code pageCount} (the memory was another
     *                               device's tier): refusing it rather than dropping what it holds
     */
    static int recover(TierLayout layout, SlotTable slots, Flusher flusher, long pageCount) {
        int damaged = 0;
        // Downwards: the free list hands out the lowest slots first, so that a run of pages written together lies
        // side by side in memory and is flushed in place (BackingRuns).
        for (int s = slots.count - 1; s >= 0; s--) {
            int state = layout.state(s);
            if (state == TierLayout.DIRTY) {
                long page = layout.page(s);
                if (!layout.dataIntact(s)) {
                    damaged++;
                    LOG.error("host tier: slot {} holds page {} version {} marked dirty, but its data does not match"
                            + " its CRC-32C: dropped (unless a newer version is found, that page lost a write)",
                            s, page, layout.version(s));
                    slots.recoverFree(s);
                } else if (page < 0 || page >= pageCount) {
                    throw new IllegalStateException("host tier slot " + s + " holds dirty page " + page
                            + ", beyond the swap space of " + pageCount + " pages: is this another device's tier?"
                            + " Refusing to drop it");
                } else {
                    slots.recoverDirty(s, page, layout.version(s));
                }
            } else {
                if (state == TierLayout.CLEAN) {
                    slots.noteVersion(layout.version(s)); // versions go on above every version still described
                } else if (state != TierLayout.FREE) {
                    damaged++;
                    LOG.error("host tier: slot {} has state {}, which no tier writes: treated as free", s, state);
                }
                slots.recoverFree(s);
            }
        }
        int dirty = 0;
        for (int s = 0; s < slots.count; s++) {
            if (slots.state[s] == SlotTable.DIRTY) {
                flusher.dirtied(s);
                dirty++;
            }
        }
        if (dirty > 0 || damaged > 0) {
            LOG.warn("host tier: {} pages written to the tier before the last stop are not known to be on the donors:"
                    + " serving them from the tier and writing them out first ({} damaged slots)", dirty, damaged);
        } else {
            LOG.info("host tier: {} slots of 4 KiB, nothing to recover", slots.count);
        }
        return dirty;
    }

    /**
     * Thread {@code valet-tier-recovery}: while the tier writes out the {@code recovered} pages it found at open,
     * logs every 10 s how many are left, and once when the last is on the donors; ends then or when the tier closes.
     */
    static void reportWriteOut(HostTier tier, long recovered) {
        long start = System.nanoTime();
        long reported = start;
        try {
            while (!tier.isClosed()) {
                Thread.sleep(100);
                int left = tier.recoveredLeft();
                long now = System.nanoTime();
                if (left == 0) {
                    LOG.info("host tier: the {} recovered pages are on the donors ({} ms)", recovered,
                            TimeUnit.NANOSECONDS.toMillis(now - start));
                    return;
                }
                if (now - reported >= REPORT_NANOS) {
                    reported = now;
                    Throwable error = tier.lastFlushError();
                    LOG.warn("host tier: {} of the {} recovered pages still to write to the donors after {} s{};"
                            + " they are safe in the tier meanwhile (do not destroy the device)", left, recovered,
                            TimeUnit.NANOSECONDS.toSeconds(now - start), error == null ? "" : " (last failure: "
                            + error + ")");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
