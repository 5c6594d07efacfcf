package dev.valet.client.tier;

import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * How the flush thread waits for work: it parks until {@link #wake} (a write made a page dirty, a flush ended and
 * made room for another) or {@link #MAX_PARK_NANOS} (a failed write may be due again). A busy thread does not
 * spin: the machine's cores belong to the workload and the kernel channel.
 */
final class FlushIdleStrategy implements IdleStrategy {
    /** The latest a retry is looked at after it is due. */
    static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final AtomicBoolean woken = new AtomicBoolean();
    private volatile Thread parked;

    /** Makes the flush thread look for work now; cheap when it is awake already. */
    void wake() {
        if (!woken.get() && !woken.getAndSet(true)) {
            Thread thread = parked;
            if (thread != null) {
                LockSupport.unpark(thread);
            }
        }
    }

    @Override
    public void idle(int workCount) {
        if (workCount <= 0) {
            idle();
        }
    }

    @Override
    public void idle() {
        if (woken.getAndSet(false)) {
            return; // work came since the last look
        }
        parked = Thread.currentThread();
        if (!woken.get()) { // a wake between the two lines above saw no parked thread: it is seen here
            LockSupport.parkNanos(this, MAX_PARK_NANOS);
        }
        parked = null;
    }

    @Override
    public void reset() {
        // nothing to forget: each wait starts from the woken flag
    }

    @Override
    public String alias() {
        return "tier-flush";
    }
}
