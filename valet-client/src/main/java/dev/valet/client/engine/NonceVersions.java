package dev.valet.client.engine;

/**
 * Where an encrypting client's versions start, so that no (page, version) pair, and so no AES-GCM nonce, is ever
 * used twice under one key, across restarts (docs/security.md, "Nonces never repeat", has the proof).
 *
 * <p>A write gets its version, and is encrypted under it, before any donor acknowledged it. If the client dies
 * then, the donors that did not store it (or every donor that did, lost since) tell recovery an older version,
 * and a plain {@code version + 1} would encrypt another plaintext under a nonce already on the wire. So after
 * recovery every page's next version is above a floor no earlier run can have reached:
 * <pre>
 *   floor = max(startMillis × 2^{@value #SHIFT}, highestRecoveredVersion + 2^{@value #GAP_BITS})
 * </pre>
 * A run that started at {@code t} issues, for any page, versions in {@code (floor, floor + writes of that page]};
 * a page cannot be written 2^20 times in a millisecond (each write is a locked, encrypted, sent round: about a
 * microsecond at best), so everything a run issued lies below the next run's clock term, given the clock moved on.
 * The second term covers a clock that went back: it is above everything the last run issued whenever a single page
 * that run wrote survived, as long as no page was written 2^32 times in one run. Versions stay below 2^63 until the
 * year 2248 (2^43 milliseconds).
 */
final class NonceVersions {
    /** Versions per millisecond of the clock term: 2^20. */
    static final int SHIFT = 20;
    /** What a run jumps past the highest version it recovered: 2^32. */
    static final int GAP_BITS = 32;

    private NonceVersions() {
    }

    /** The floor for a run that starts at {@code startMillis} and recovered {@code highestRecovered}. */
    static long floor(long startMillis, long highestRecovered) {
        if (startMillis <= 0 || startMillis >= 1L << (63 - SHIFT)) {
            throw new IllegalStateException("clock reads " + startMillis + " ms since 1970: cannot derive versions"
                    + " that never repeat from it");
        }
        long byClock = startMillis << SHIFT;
        long byRecovery = highestRecovered + (1L << GAP_BITS);
        if (byRecovery < 0) {
            throw new IllegalStateException("recovered version " + highestRecovered + " leaves no room for new ones");
        }
        return Math.max(byClock, byRecovery);
    }
}
