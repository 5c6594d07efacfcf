package dev.valet.client.transport;

/**
 * A donor could not be reached, dropped the connection, or did not answer in time ({@link #timedOut()}: it may
 * only be slow, and a longer wait may succeed).
 */
public final class DonorUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean timedOut;

    public DonorUnavailableException(String message) {
        this(message, null, false);
    }

    public DonorUnavailableException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public DonorUnavailableException(String message, Throwable cause, boolean timedOut) {
        super(message, cause);
        this.timedOut = timedOut;
    }

    /** A handshake or request that got no answer in time, as opposed to a refusal or a dropped connection. */
    public static DonorUnavailableException timeout(String message) {
        return new DonorUnavailableException(message, null, true);
    }

    public boolean timedOut() {
        return timedOut;
    }

    /** Whether {@code e}, or what it wraps, is a {@link #timedOut()} failure. */
    public static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DonorUnavailableException d && d.timedOut) {
                return true;
            }
        }
        return false;
    }
}
