package dev.valet.client.engine;

import dev.valet.common.crypto.PageCipher;
import dev.valet.common.crypto.PageKey;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No two writes share an AES-GCM nonce: runs of a client that write pages (versions from {@link SlabMap}), die
 * with writes unacknowledged, and restart with what recovery finds on the donors (any subset of pages, each at any
 * version it was given, or lost), with the floor {@link NonceVersions} puts under new versions. Every nonce of every
 * write of every run is collected; none may repeat.
 */
class NonceProperties {
    private static final int PAGES_PER_SLAB = 16;
    private static final int SLABS = 4;
    private static final PageCipher CIPHER = cipher();

    @Property(tries = 300)
    void noNonceRepeatsAcrossRestartsWhileTheClockMovesOn(@ForAll long seed,
                                                          @ForAll @IntRange(min = 1, max = 6) int runs,
                                                          @ForAll @LongRange(min = 1, max = 5000) long stepMillis) {
        Random random = new Random(seed);
        long clock = 1_764_900_000_000L;
        Set<String> nonces = new HashSet<>();
        long[] recovered = new long[PAGES_PER_SLAB * SLABS];
        for (int run = 0; run < runs; run++) {
            clock += 1 + random.nextLong(stepMillis);
            recovered = oneRun(random, clock, recovered, nonces, false);
        }
    }

    /**
     * The clock may go back (stepped by an operator, a VM restored): still no repeat, as long as one page the last
     * run wrote is found by recovery at a version that run gave it.
     */
    @Property(tries = 300)
    void noNonceRepeatsWhenTheClockGoesBackIfOnePageOfTheLastRunSurvives(@ForAll long seed,
                                                                        @ForAll @IntRange(min = 2, max = 6) int runs) {
        Random random = new Random(seed);
        Set<String> nonces = new HashSet<>();
        long[] recovered = new long[PAGES_PER_SLAB * SLABS];
        for (int run = 0; run < runs; run++) {
            // Back and forth by up to an hour: a lag of seconds is waited out, a longer one takes the gap.
            long clock = 1_764_900_000_000L + random.nextLong(7_200_000) - 3_600_000;
            recovered = oneRun(random, clock, recovered, nonces, true);
        }
    }

    /** A clock a few seconds behind what recovery found is waited out (the engine sleeps until it has passed). */
    @Property(tries = 300)
    void noNonceRepeatsWhenTheClockIsSecondsBehindAndIsWaitedOut(@ForAll long seed,
                                                                       @ForAll @IntRange(min = 2, max = 6) int runs) {
        Random random = new Random(seed);
        Set<String> nonces = new HashSet<>();
        long[] recovered = new long[PAGES_PER_SLAB * SLABS];
        long clock = 1_764_900_000_000L;
        for (int run = 0; run < runs; run++) {
            clock += random.nextInt(16_000) - 8_000; // restarts quickly, the clock stepped back by up to 8 s
            recovered = oneRun(random, clock, recovered, nonces, true);
        }
    }

    /**
     * One run: recovery, then random writes (each a nonce, checked unique), then a crash that loses, for each page,
     * any number of its latest versions. Returns what the next run's recovery finds.
     */
    private static long[] oneRun(Random random, long clock, long[] recovered, Set<String> nonces,
                                 boolean keepOneOfThisRun) {
        int pages = recovered.length;
        SlabMap map = new SlabMap((long) pages * 4096, PAGES_PER_SLAB * 4096L);
        for (int p = 0; p < pages; p++) {
            map.restore(p, recovered[p], 0);
        }
        long lag = NonceVersions.lagMillis(clock, map.highestVersion());
        if (lag > 0 && lag <= NonceVersions.MAX_WAIT_MILLIS) {
            clock += lag; // the engine waits for the clock to pass what recovery found
        }
        map.raiseVersionFloor(NonceVersions.floor(clock, map.highestVersion()));
        long[][] issued = new long[pages][];
        int[] counts = new int[pages];
        int writes = 1 + random.nextInt(200);
        byte[] nonce = new byte[PageCipher.NONCE_BYTES];
        for (int w = 0; w < writes; w++) {
            int p = random.nextInt(pages);
            long v = map.nextVersion(p, 0);
            assertThat(v).isPositive();
            NonceProperties.nonce(p, v, nonce);
            assertThat(nonces.add(HexFormat.of().formatHex(nonce)))
                    .as("nonce of page %d version %d already used", p, v).isTrue();
            if (issued[p] == null) {
                issued[p] = new long[writes];
            }
            issued[p][counts[p]++] = v;
        }
        // The crash: per page, recovery finds the version of any of its writes (later ones unacknowledged and
        // lost), or what it had before this run, or nothing at all (every copy lost).
        long[] next = new long[pages];
        int lastWritten = -1;
        for (int p = 0; p < pages; p++) {
            int choice = random.nextInt(3);
            if (counts[p] > 0) {
                lastWritten = p;
            }
            if (choice == 0 || counts[p] == 0) {
                next[p] = random.nextBoolean() ? recovered[p] : 0;
            } else {
                next[p] = issued[p][random.nextInt(counts[p])];
            }
        }
        if (keepOneOfThisRun && lastWritten >= 0) {
            next[lastWritten] = issued[lastWritten][random.nextInt(counts[lastWritten])];
        }
        return next;
    }

    /** The nonce as {@link PageCipher} makes it. */
    private static void nonce(int page, long version, byte[] into) {
        CIPHER.nonce(page / PAGES_PER_SLAB, page % PAGES_PER_SLAB, version, into);
    }

    private static PageCipher cipher() {
        try {
            Path key = Files.createTempFile("nonce-properties", ".key",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(key, new byte[32]);
            try {
                return new PageCipher(PageKey.fromFile(key, "nonce-test"), PAGES_PER_SLAB, "nonce-test");
            } finally {
                Files.delete(key);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
