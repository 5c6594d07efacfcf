package dev.valet.common.posix;

import jnr.ffi.Runtime;

/** errno and its message for the last failed {@link LibC} call on this thread. */
public final class Posix {
    private Posix() {
    }

    public static int errno() {
        return Runtime.getRuntime(LibC.INSTANCE).getLastError();
    }

    /** "name failed: message (errno N)" for the last failed call. */
    public static String lastError(String call) {
        int errno = errno();
        return call + " failed: " + LibC.INSTANCE.strerror(errno) + " (errno " + errno + ")";
    }
}
