package dev.valet.common.rdma;

import dev.valet.common.posix.LibC;
import dev.valet.common.posix.Posix;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wakes one thread that sleeps on a queue pair's completion channel ({@link QueuePair#sleep}) when another thread
 * hands it work: an eventfd, written only while the thread says it sleeps, so a busy thread costs its callers no
 * system call. The sleeper announces itself ({@link #sleeping}), checks its queues once more, then sleeps; a
 * caller queues first, then rings: neither can miss the other.
 */
public final class Doorbell implements AutoCloseable {
    private final int fd;
    /** Where {@link #awake} reads the counter to, and (8 bytes on) the constant 1 that {@link #ring} adds. */
    private final long words = NativeMemory.allocate(16);
    private final AtomicBoolean asleep = new AtomicBoolean();
    /** Rings under way: {@link #close} waits for them, so no ring writes to a closed (or reused) fd. */
    private final AtomicInteger ringing = new AtomicInteger();
    private volatile boolean closed;

    public Doorbell() throws IOException {
        fd = LibC.INSTANCE.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (fd < 0) {
            NativeMemory.free(words);
            throw new IOException(Posix.lastError("eventfd"));
        }
        NativeMemory.putLong(words, 8, 1L);
    }

    int fd() {
        return fd;
    }

    /** Called by the sleeper before its last look at its queues. */
    public void sleeping() {
        asleep.set(true);
    }

    /** Called by the sleeper once awake (or when its last look found work): empties the counter. */
    public void awake() {
        if (asleep.getAndSet(false)) {
            LibC.INSTANCE.read(fd, words, 8);
        }
    }

    /** Called by a caller after it queued work: wakes the sleeper if it sleeps. */
    public void ring() {
        if (asleep.get()) {
            ringing.incrementAndGet();
            if (!closed) {
                LibC.INSTANCE.write(fd, words + 8, 8);
            }
            ringing.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        while (ringing.get() > 0) {
            Thread.onSpinWait();
        }
        LibC.INSTANCE.close(fd);
        NativeMemory.free(words);
    }
}
