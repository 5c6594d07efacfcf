package dev.valet.common.testing;

import java.lang.management.ManagementFactory;

/**
 * The heap bytes the calling thread allocates while it runs an action: how the tests show that a path allocates
 * nothing per call (the JVM's per-thread counter, exact to the byte; other threads do not count).
 */
public final class ThreadAllocation {
    /** What is measured; may throw, as the paths under test do. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    private ThreadAllocation() {
    }

    /**
     * Runs {@code warmUp} (so the JIT has compiled the path and buffers have grown to size), then {@code measured},
     * and returns the bytes this thread allocated in {@code measured}.
     *
     * @throws IllegalStateException when this JVM does not count each thread's allocations (HotSpot does)
     */
    public static long of(Action warmUp, Action measured) throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!threads.isThreadAllocatedMemorySupported() || !threads.isThreadAllocatedMemoryEnabled()) {
            throw new IllegalStateException("this JVM does not count the bytes each thread allocates");
        }
        threads.getCurrentThreadAllocatedBytes(); // the first call may allocate
        warmUp.run();
        long before = threads.getCurrentThreadAllocatedBytes();
        measured.run();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }
}
