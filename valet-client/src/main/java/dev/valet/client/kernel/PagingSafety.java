package dev.valet.client.kernel;

import dev.valet.common.posix.LibC;
import dev.valet.common.posix.Posix;

/**
 * What a process that pages out for the whole machine must do so that paging out never waits on itself:
 * lock all its memory (so none of it is ever swapped out to itself), and tell the kernel it is an I/O flusher
 * (its own allocations then never recurse into I/O, and it is not throttled as a writer). Each returns null on
 * success, else why it failed.
 */
public final class PagingSafety {
    private PagingSafety() {
    }

    /**
     * {@code mlockall(MCL_CURRENT | MCL_FUTURE)}: everything mapped now and later stays in RAM. For this to be safe
     * the JVM heap must be fixed and touched up front ({@code -Xms} = {@code -Xmx}, {@code -XX:+AlwaysPreTouch},
     * as bin/valet sets for the client); needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK.
     */
    public static String lockAllMemory() {
        if (LibC.INSTANCE.mlockall(LibC.MCL_CURRENT | LibC.MCL_FUTURE) != 0) {
            return Posix.lastError("mlockall(MCL_CURRENT | MCL_FUTURE)");
        }
        return null;
    }

    /** {@code prctl(PR_SET_IO_FLUSHER, 1)} (Linux 5.6+, needs CAP_SYS_RESOURCE). */
    public static String becomeIoFlusher() {
        if (LibC.INSTANCE.prctl(LibC.PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0) {
            return Posix.lastError("prctl(PR_SET_IO_FLUSHER, 1)");
        }
        return null;
    }
}
