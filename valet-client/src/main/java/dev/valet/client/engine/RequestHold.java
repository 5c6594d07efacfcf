package dev.valet.client.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Holds requests that the donors cannot serve yet ({@link WaitForDonorsException}: every copy on a suspected
 * donor, fewer live donors than copies to place, every target late) and tries them again as donors come back, as
 * the driver holds requests across a daemon restart. A request held longer than {@code device.holdTimeout} fails
 * with a {@link PageIoException} that says what was missing. Retries back off from 20 ms to 500 ms.
 */
final class RequestHold {
    private static final Logger LOG = LoggerFactory.getLogger(RequestHold.class);
    private static final long FIRST_RETRY_MS = 20;
    private static final long MAX_RETRY_MS = 500;

    private final long holdNanos;
    private final ScheduledExecutorService timer;
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong heldMaxNanos = new AtomicLong();
    private final AtomicLong holding = new AtomicLong();

    RequestHold(Duration holdTimeout, ScheduledExecutorService timer) {
        this.holdNanos = holdTimeout.toNanos();
        this.timer = timer;
    }

    /**
     * Holds a request whose first attempt failed with {@code firstError}: while the error is a
     * {@link WaitForDonorsException}, {@code attempt} is tried again (each call a fresh attempt) up to the hold
     * timeout; {@code done} is told how it ends. Any other error is told at once.
     */
    void hold(Supplier<CompletableFuture<Void>> attempt, Throwable firstError, PageIoDone done) {
        new Held(attempt, done).accept(null, firstError);
    }

    /** A held request: the callback of each attempt, and the timer task of each retry, in one object. */
    private final class Held implements BiConsumer<Void, Throwable>, Runnable {
        private final Supplier<CompletableFuture<Void>> attempt;
        private final PageIoDone done;
        /** When it was first held, or 0 while it has not been. */
        private long startNanos;
        private long backoffMs = FIRST_RETRY_MS;

        Held(Supplier<CompletableFuture<Void>> attempt, PageIoDone done) {
            this.attempt = attempt;
            this.done = done;
        }

        /** An attempt ended. */
        @Override
        public void accept(Void ok, Throwable err) {
            boolean wasHeld = startNanos != 0;
            if (err == null || !(unwrap(err) instanceof WaitForDonorsException)) {
                if (wasHeld) {
                    release(startNanos);
                }
                done.pageIoDone(err == null ? null : unwrap(err));
                return;
            }
            long now = System.nanoTime();
            if (!wasHeld) {
                startNanos = now;
                held.incrementAndGet();
                if (holding.getAndIncrement() == 0) {
                    LOG.warn("holding requests until donors answer: {}", unwrap(err).getMessage());
                }
            }
            if (now - startNanos >= holdNanos) {
                release(startNanos);
                failed.incrementAndGet();
                String why = "held request failed after " + (now - startNanos) / 1_000_000
                        + " ms (device.holdTimeout): " + unwrap(err).getMessage();
                LOG.error("{}", why);
                done.pageIoDone(new PageIoException(why));
                return;
            }
            try {
                timer.schedule(this, backoffMs, TimeUnit.MILLISECONDS);
                backoffMs = Math.min(MAX_RETRY_MS, backoffMs * 2);
            } catch (RejectedExecutionException e) {
                release(startNanos);
                failed.incrementAndGet();
                done.pageIoDone(new PageIoException("held request failed: the engine is closing ("
                        + unwrap(err).getMessage() + ")"));
            }
        }

        /** The next attempt, when the timer says. */
        @Override
        public void run() {
            CompletableFuture<Void> again;
            try {
                again = attempt.get();
            } catch (RuntimeException e) {
                again = CompletableFuture.failedFuture(e);
            }
            again.whenComplete(this);
        }
    }

    private void release(long startNanos) {
        long waited = System.nanoTime() - startNanos;
        heldMaxNanos.accumulateAndGet(waited, Math::max);
        if (holding.decrementAndGet() == 0) {
            LOG.info("held requests released; the longest waited {} ms", heldMaxNanos.get() / 1_000_000);
        }
    }

    private static Throwable unwrap(Throwable e) {
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** Requests held at least once so far. */
    long heldRequests() {
        return held.get();
    }

    /** Held requests that failed when the hold timed out. */
    long heldFailed() {
        return failed.get();
    }

    /** The longest any request was held, in milliseconds. */
    long heldMaxMillis() {
        return heldMaxNanos.get() / 1_000_000;
    }
}
