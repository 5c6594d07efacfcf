package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import dev.valet.client.tier.TierPages.Answer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static dev.valet.client.tier.TierPages.PAGE;
import static dev.valet.client.tier.TierPages.page;
import static dev.valet.client.tier.TierPages.valueAt;
import static dev.valet.client.tier.TierPages.valueOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tier's rules one by one, with the flush thread not started: each test drives {@link HostTier#flushBurst}
 * itself and ends the backing store's operations when it chooses ({@link FakeBacking}).
 */
class HostTierTest {
    private static final long PAGES = 1024;

    private final FakeBacking backing = new FakeBacking();
    private final List<HostTier> opened = new ArrayList<>();
    private final List<ByteBuf> memories = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(HostTier::close);
    }

    private HostTier open(ByteBuf memory) throws IOException {
        return open(memory, false);
    }

    private HostTier open(ByteBuf memory, boolean prefetch) throws IOException {
        HostTier tier = HostTier.openStopped(memory, backing, new HostTier.Settings(PAGES, 16, 8, prefetch, 8, 8));
        opened.add(tier);
        memories.add(memory);
        return tier;
    }

    /** The memory a tier was opened on (the tests' reads ahead go there). */
    private ByteBuf memory(HostTier tier) {
        return memories.get(opened.indexOf(tier));
    }

    private static Answer write(HostTier tier, long page, long value) {
        Answer answer = new Answer();
        tier.write(page, 1, page(page, value), 0, answer);
        return answer;
    }

    /** Reads one page and returns its value, checking that it was answered once, without error. */
    private static long read(HostTier tier, long page) {
        ByteBuf dst = Unpooled.buffer(PAGE);
        Answer answer = new Answer();
        tier.read(page, 1, dst, 0, answer);
        assertThat(answer.ok()).as("read of page %d answered", page).isTrue();
        return valueAt(dst, 0, page);
    }

    @Test
    void aWriteCompletesInTheTierAndReachesTheBackingStoreOnlyWhenFlushed() throws IOException {
        HostTier tier = open(TierPages.memory(8));

        Answer answer = write(tier, 5, 1);

        assertThat(answer.ok()).isTrue();
        assertThat(backing.writeCalls).isZero();
        assertThat(tier.stats().dirty()).isEqualTo(1);
        assertThat(tier.flushBurst()).isEqualTo(1);
        assertThat(valueOf(backing.page(5), 5)).isEqualTo(1);
        TierStats stats = tier.stats();
        assertThat(stats.dirty()).isZero();
        assertThat(stats.clean()).isEqualTo(1);
        assertThat(stats.flushed()).isEqualTo(1);
        assertThat(stats.writes()).isEqualTo(1);
        assertThat(stats.slots()).isEqualTo(8);
    }

    @Test
    void readsOfPagesInTheTierNeverReachTheBackingStore() throws IOException {
        HostTier tier = open(TierPages.memory(8));
        write(tier, 1, 10);
        write(tier, 2, 20);
        tier.flushBurst();
        write(tier, 2, 21); // dirty again, newer

        ByteBuf dst = Unpooled.buffer(2 * PAGE);
        Answer answer = new Answer();
        tier.read(1, 2, dst, 0, answer);

        assertThat(answer.ok()).isTrue();
        assertThat(valueAt(dst, 0, 1)).isEqualTo(10);
        assertThat(valueAt(dst, PAGE, 2)).isEqualTo(21);
        assertThat(backing.readCalls).isZero();
        assertThat(tier.stats().hits()).isEqualTo(2);
        assertThat(tier.stats().hitRate()).isEqualTo(1.0);
    }

    @Test
    void missesAreReadFromTheBackingStore() throws IOException {
        HostTier tier = open(TierPages.memory(8));
        backing.put(7, TierPages.bytes(7, 70));

        assertThat(read(tier, 7)).isEqualTo(70);
        assertThat(read(tier, 8)).isEqualTo(-1); // never written: zeros
        assertThat(backing.readCalls).isEqualTo(2);
        assertThat(tier.stats().misses()).isEqualTo(2);
    }

    @Test
    void aPartlyHitReadLaysTheTiersNewerPagesOverTheBackingStores() throws IOException {
        HostTier tier = open(TierPages.memory(8));
        for (long p = 0; p < 4; p++) {
            backing.put(p, TierPages.bytes(p, 1));
        }
        write(tier, 1, 2);
        write(tier, 2, 2);

        ByteBuf dst = Unpooled.buffer(4 * PAGE);
        Answer answer = new Answer();
        tier.read(0, 4, dst, 0, answer);

        assertThat(answer.ok()).isTrue();
        assertThat(new long[] {valueAt(dst, 0, 0), valueAt(dst, PAGE, 1), valueAt(dst, 2 * PAGE, 2),
            valueAt(dst, 3 * PAGE, 3)}).containsExactly(1, 2, 2, 1);
        assertThat(tier.stats().hits()).isEqualTo(2);
        assertThat(tier.stats().misses()).isEqualTo(2);
    }

    @Test
    void aPartlyHitReadKeepsItsPagesThoughTheyAreFlushedAndEvictedMeanwhile() throws IOException {
        HostTier tier = open(TierPages.memory(4));
        backing.put(1, TierPages.bytes(1, 1));
        write(tier, 1, 2); // the donors' copy is older
        backing.delayReads = true;
        ByteBuf dst = Unpooled.buffer(2 * PAGE);
        Answer answer = new Answer();
        tier.read(0, 2, dst, 0, answer); // the donors answer with version 1 of page 1, taken now

        tier.flushBurst(); // page 1 version 2 on the donors, its slot clean
        for (long p = 10; p < 14; p++) { // enough new pages to reuse every clean slot
            write(tier, p, 3);
        }
        assertThat(tier.stats().writeWaits()).isEqualTo(1); // the pinned slot was not taken
        backing.endReads(true);

        assertThat(answer.ok()).isTrue();
        assertThat(valueAt(dst, PAGE, 1)).isEqualTo(2);
        tier.flushBurst();
        assertThat(tier.stats().writeWaits()).isEqualTo(1);
        assertThat(read(tier, 13)).isEqualTo(3);
    }

    @Test
    void aFullTierMakesWritersWaitAndResumesThemInOrderAsFlushesFreeSlots() throws IOException {
        HostTier tier = open(TierPages.memory(4));
        backing.delayWrites = true;
        for (long p = 0; p < 4; p++) {
            assertThat(write(tier, 2 * p, 1).ok()).isTrue(); // pages apart: one flush each
        }

        Answer fifth = write(tier, 8, 1);
        ByteBuf two = TierPages.pages(10, 2, 1);
        Answer sixth = new Answer();
        tier.write(10, 2, two, 0, sixth);

        assertThat(fifth.told()).isZero();
        assertThat(sixth.told()).isZero();
        assertThat(tier.stats().writeWaits()).isEqualTo(2);
        tier.flushBurst();
        assertThat(backing.pending(p -> p.write)).hasSize(4);
        backing.end(p -> p.write && p.page == 0, true);
        assertThat(fifth.ok()).as("the first waiting write got the first free slot").isTrue();
        assertThat(sixth.told()).isZero();
        backing.end(p -> p.write && p.page == 2, true);
        assertThat(sixth.told()).as("half of its pages are in").isZero();
        backing.end(p -> p.write && p.page == 4, true);
        assertThat(sixth.ok()).isTrue();
        assertThat(read(tier, 8)).isEqualTo(1);
        assertThat(read(tier, 11)).isEqualTo(1);
    }

    @Test
    void aNewWriteWaitsBehindWritesAlreadyWaiting() throws IOException {
        HostTier tier = open(TierPages.memory(2));
        backing.delayWrites = true;
        write(tier, 0, 1);
        write(tier, 2, 1);
        Answer waiting = write(tier, 4, 1);
        tier.flushBurst();
        backing.end(p -> p.page == 0, true); // one slot clean: the waiting write takes it

        Answer later = write(tier, 6, 1);

        assertThat(waiting.ok()).isTrue();
        assertThat(later.told()).isZero();
        backing.end(p -> p.page == 2, true);
        assertThat(later.ok()).isTrue();
    }

    @Test
    void dirtyPagesAreNeverEvictedAndCleanOnesAre() throws IOException {
        HostTier tier = open(TierPages.memory(4), true);
        backing.delayWrites = true;
        for (long p = 0; p < 4; p++) {
            write(tier, p, 7);
        }
        for (long p = 100; p < 140; p++) { // a trend of misses: read ahead finds no slot it may take
            read(tier, p);
        }
        assertThat(tier.stats().prefetched()).isZero();
        for (long p = 0; p < 4; p++) {
            assertThat(read(tier, p)).isEqualTo(7);
        }
        tier.flushBurst();
        backing.endWrites(true);

        assertThat(write(tier, 50, 1).ok()).as("a clean slot was reused").isTrue();
        assertThat(tier.stats().writeWaits()).isZero();
        assertThat(tier.stats().clean()).isEqualTo(3);
    }

    @Test
    void theClockGivesARecentlyReadCleanPageAnotherTurn() throws IOException {
        HostTier tier = open(TierPages.memory(4));
        for (long p = 0; p < 4; p++) {
            write(tier, p, 1);
        }
        tier.flushBurst();
        read(tier, 0); // referenced

        write(tier, 10, 1);

        assertThat(backing.readCalls).isZero();
        read(tier, 0);
        assertThat(backing.readCalls).as("page 0 was kept").isZero();
        for (long p = 1; p < 4; p++) {
            read(tier, p);
        }
        assertThat(backing.readCalls).as("one of pages 1 to 3 made room").isEqualTo(1);
    }

    @Test
    void aNewerWriteIsNeverOvertakenByAnOlderFlush() throws IOException {
        HostTier tier = open(TierPages.memory(8));
        backing.delayWrites = true;
        write(tier, 3, 1);
        tier.flushBurst();
        write(tier, 3, 2);

        tier.flushBurst();
        assertThat(backing.pending(p -> p.write)).as("version 2 waits for version 1's flush").hasSize(1);
        backing.endWrites(true);
        assertThat(valueOf(backing.page(3), 3)).isEqualTo(1);
        assertThat(tier.stats().dirty()).as("version 1 flushed does not make the page clean").isEqualTo(1);
        tier.flushBurst();
        backing.endWrites(true);

        assertThat(valueOf(backing.page(3), 3)).isEqualTo(2);
        TierStats stats = tier.stats();
        assertThat(stats.dirty()).isZero();
        assertThat(stats.clean()).isEqualTo(1);
        assertThat(stats.free()).as("version 1's slot was freed once its flush ended").isEqualTo(7);
    }

    @Test
    void aFailedFlushLeavesThePageDirtyAndIsRetriedAfterABackoffThatDoubles() throws Exception {
        HostTier tier = open(TierPages.memory(8));
        backing.failWrites = true;
        write(tier, 9, 1);
        long backoff = Flusher.MIN_BACKOFF_NANOS;

        long first = System.nanoTime();
        tier.flushBurst(first);
        assertThat(tier.stats().flushFailures()).isEqualTo(1);
        assertThat(tier.stats().dirty()).isEqualTo(1);
        assertThat(tier.flushBurst(first + backoff - 1)).as("not again before the backoff").isZero();
        long second = System.nanoTime();
        tier.flushBurst(second + backoff);
        assertThat(tier.stats().flushFailures()).isEqualTo(2);

        backing.failWrites = false;
        assertThat(tier.flushBurst(second + 2 * backoff - 1)).as("the backoff doubled").isZero();
        tier.flushBurst(System.nanoTime() + 2 * backoff);
        assertThat(valueOf(backing.page(9), 9)).isEqualTo(1);
        assertThat(tier.stats().dirty()).isZero();
        assertThat(tier.stats().flushed()).isEqualTo(1);
        assertThat(read(tier, 9)).isEqualTo(1);
    }

    @Test
    void aBackingWriteThatThrowsCountsAsAFailure() throws IOException {
        PageStore throwing = new PageStore() {
            @Override
            public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
                throw new IllegalStateException("no donors");
            }

            @Override
            public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
                backing.read(firstPage, count, dst, dstIndex, done);
            }
        };
        HostTier tier = HostTier.openStopped(TierPages.memory(4), throwing,
                new HostTier.Settings(PAGES, 16, 8, false, 8, 8));
        opened.add(tier);
        write(tier, 1, 1);

        tier.flushBurst();

        assertThat(tier.stats().flushFailures()).isEqualTo(1);
        assertThat(tier.stats().dirty()).isEqualTo(1);
    }

    @Test
    void flushesAreBoundedByMaxFlushingAndFlushBatch() throws IOException {
        HostTier tier = HostTier.openStopped(TierPages.memory(32), backing,
                new HostTier.Settings(PAGES, 4, 6, false, 8, 8));
        opened.add(tier);
        backing.delayWrites = true;
        for (long p = 0; p < 20; p++) {
            write(tier, 2 * p, 1); // pages apart: one flush each
        }

        assertThat(tier.flushBurst()).isEqualTo(4);
        assertThat(tier.flushBurst()).isEqualTo(2);
        assertThat(tier.flushBurst()).isZero();
        backing.end(p -> p.page < 6, true);
        assertThat(tier.flushBurst()).isEqualTo(3);
        assertThat(backing.pending(p -> p.write)).extracting(p -> p.page)
                .containsExactly(6L, 8L, 10L, 12L, 14L, 16L);
    }

    @Test
    void pagesOutsideTheSwapSpaceAreRefusedWithoutAnAnswer() throws IOException {
        HostTier tier = open(TierPages.memory(4));
        Answer answer = new Answer();

        assertThatThrownBy(() -> tier.write(PAGES, 1, page(PAGES, 1), 0, answer))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pages 1024 + 1 outside the swap space of 1024 pages");
        assertThatThrownBy(() -> tier.read(-1, 2, Unpooled.buffer(2 * PAGE), 0, answer))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tier.read(0, 0, Unpooled.buffer(PAGE), 0, answer))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(answer.told()).isZero();
    }

    @Test
    void aWriteWinsOverAReadAheadOfItsPageStillOnTheWay() throws IOException {
        HostTier tier = open(TierPages.memory(64), true);
        for (long p = 0; p < 40; p++) {
            backing.put(p, TierPages.bytes(p, 1));
        }
        backing.delayReads = true;
        for (long p = 0; p < 6; p++) { // a sequential trend; every read waits
            tier.read(p, 1, Unpooled.buffer(PAGE), 0, new Answer());
        }
        List<FakeBacking.Pending> ahead = backing.pending(p -> !p.write && p.page >= 6);
        assertThat(ahead).as("pages read ahead").isNotEmpty();
        long target = ahead.get(0).page;

        write(tier, target, 2);
        backing.endReads(true);
        backing.delayReads = false;

        assertThat(read(tier, target)).isEqualTo(2);
        assertThat(backing.pending(p -> true)).isEmpty();
        tier.flushBurst();
        assertThat(valueOf(backing.page(target), target)).isEqualTo(2);
    }

    @Test
    void aReadAheadEndingAfterItsPageWasWrittenFlushedAndEvictedIsDropped() throws IOException {
        HostTier tier = open(TierPages.memory(8), true);
        for (long p = 0; p < 40; p++) {
            backing.put(p, TierPages.bytes(p, 1));
        }
        backing.delayReadsInto = memory(tier);
        for (long p = 0; p < 6; p++) {
            assertThat(read(tier, p)).isEqualTo(1);
        }
        List<FakeBacking.Pending> ahead = backing.pending(p -> !p.write);
        assertThat(ahead).as("reads ahead on the way").isNotEmpty();
        long target = ahead.get(0).page;

        write(tier, target, 2);
        tier.flushBurst(); // on the donors, clean...
        for (long p = 500; p < 510; p++) { // ...and its slot reused
            write(tier, p, 1);
            tier.flushBurst();
        }
        backing.delayReadsInto = null;
        backing.endReads(true); // brings version 1, read before the write

        assertThat(read(tier, target)).isEqualTo(2);
    }

    @Test
    void aSequentialStreamIsReadAheadAndHitsTheTier() throws IOException {
        HostTier tier = open(TierPages.memory(64), true);
        for (long p = 0; p < 200; p++) {
            backing.put(p, TierPages.bytes(p, 5));
        }

        for (long p = 0; p < 200; p++) {
            assertThat(read(tier, p)).isEqualTo(5);
        }

        TierStats stats = tier.stats();
        assertThat(stats.prefetched()).isGreaterThan(150);
        assertThat(stats.prefetchedUsed()).isGreaterThan(150);
        assertThat(stats.hitRate()).isGreaterThan(0.9);
        assertThat(stats.prefetchedUsed()).isLessThanOrEqualTo(stats.prefetched());
    }

    @Test
    void readAheadStopsAtTheEndOfTheSwapSpace() throws IOException {
        HostTier tier = open(TierPages.memory(64), true);

        for (long p = PAGES - 10; p < PAGES; p++) {
            read(tier, p);
        }

        assertThat(backing.pending(p -> true)).isEmpty();
        assertThat(tier.stats().prefetched()).isLessThan(10);
    }

    @Test
    void writesAndReadsAfterCloseAreRefused() throws IOException {
        HostTier tier = open(TierPages.memory(4));
        tier.close();

        assertThatThrownBy(() -> write(tier, 1, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessage("host tier closed");
    }
}
