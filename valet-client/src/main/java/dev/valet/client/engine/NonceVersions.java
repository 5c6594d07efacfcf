package dev.valet.client.engine;

/**
 * Where an encrypting client's versions start, so that no (page, version) pair, and so no AES-GCM nonce, is ever
 * used twice under one key, across restarts (docs/security.md, "Nonces never repeat", has the proof).
 *
 * <p>A write gets its version, and is encrypted under it, before any donor acknowledged it. If the client dies
 * then, the donors that did not store it (or every donor that did, lost since) tell recovery an older version,
 * and a plain {@code version + 1} would encrypt another plaintext under a nonce already on the wire. So versions
 * are tied to the clock: a run that starts at millisecond {@code t} starts every page above {@code t × 2^20}, and
 * since no page is written 2^20 times in a millisecond, every version a run has issued by millisecond {@code u}
 * is below {@code u × 2^20}: below the floor of any later run, whatever recovery finds or loses.
 *
 * <p>That holds while the floor is not ahead of the clock. Recovery can show it is (a version at or above
 * {@code now × 2^20}: the clock went back since an earlier run). Up to {@link #MAX_WAIT_MILLIS} behind, the engine
 * waits for the clock to pass it ({@link #lagMillis}). Further behind, the floor is the highest recovered version
 * plus 2^32 ({@link #floor}): above every version of the run that wrote it if no page was written 2^32 times in it,
 * but only as long as a page that run wrote survives the next crash (logged as a warning; fix the clock).
 */
final class NonceVersions {
    /** Versions per millisecond of the clock: 2^20. */
    static final int SHIFT = 20;
    /** What a run jumps past the highest version it recovered when the clock is far behind: 2^32. */
    static final int GAP_BITS = 32;
    /** Longest the engine waits, at startup, for a clock that is behind the recovered versions. */
    static final long MAX_WAIT_MILLIS = 10_000;

    private NonceVersions() {
    }

    /** How many milliseconds the clock at {@code nowMillis} is behind {@code highestRecovered}; 0 when it is not. */
    static long lagMillis(long nowMillis, long highestRecovered) {
        return Math.max(0, (highestRecovered >> SHIFT) + 1 - nowMillis);
    }

    /**
     * The floor for a run that starts at {@code nowMillis} having recovered {@code highestRecovered}: the clock's,
     * or, with the clock behind ({@link #lagMillis} above 0), the highest version plus 2^{@value #GAP_BITS}.
     */
    static long floor(long nowMillis, long highestRecovered) {
        if (nowMillis <= 0 || nowMillis >= 1L << (63 - SHIFT)) {
            throw new IllegalStateException("clock reads " + nowMillis + " ms since 1970: cannot derive versions"
                    + " that never repeat from it");
        }
        if (lagMillis(nowMillis, highestRecovered) == 0) {
            return nowMillis << SHIFT;
        }
        long floor = highestRecovered + (1L << GAP_BITS);
        if (floor < 0) {
            throw new IllegalStateException("recovered version " + highestRecovered + " leaves no room for new ones");
        }
        return floor;
    }
}
