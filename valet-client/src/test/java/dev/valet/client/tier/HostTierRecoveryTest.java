package dev.valet.client.tier;

import dev.valet.client.tier.TierPages.Answer;
import dev.valet.common.testing.Await;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.valet.client.tier.TierPages.PAGE;
import static dev.valet.client.tier.TierPages.page;
import static dev.valet.client.tier.TierPages.valueAt;
import static dev.valet.client.tier.TierPages.valueOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a tier finds in its memory when it opens: formatting, recovering, and refusing what it cannot read. */
class HostTierRecoveryTest {
    private static final long PAGES = 1024;
    private static final HostTier.Settings SETTINGS = new HostTier.Settings(PAGES, 16, 8, false, 8, 8);

    private final FakeBacking backing = new FakeBacking();
    private final List<HostTier> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(HostTier::close);
    }

    private HostTier openStopped(ByteBuf memory) throws IOException {
        HostTier tier = HostTier.openStopped(memory, backing, SETTINGS);
        opened.add(tier);
        return tier;
    }

    private static void write(HostTier tier, long page, long value) {
        Answer answer = new Answer();
        tier.write(page, 1, page(page, value), 0, answer);
        assertThat(answer.ok()).isTrue();
    }

    private static long read(HostTier tier, long page) {
        ByteBuf dst = Unpooled.buffer(PAGE);
        Answer answer = new Answer();
        tier.read(page, 1, dst, 0, answer);
        assertThat(answer.ok()).isTrue();
        return valueAt(dst, 0, page);
    }

    /** The slots whose memory entry says they hold {@code page} in {@code state}. */
    private static List<Integer> slotsOf(ByteBuf memory, long page, int state) {
        TierLayout layout = TierLayout.attach(memory);
        List<Integer> found = new ArrayList<>();
        for (int s = 0; s < layout.slotCount(); s++) {
            if (layout.state(s) == state && layout.page(s) == page) {
                found.add(s);
            }
        }
        return found;
    }

    @Test
    void zeroMemoryIsFormattedWithEverySlotFree() throws IOException {
        ByteBuf memory = TierPages.memory(16);

        HostTier tier = openStopped(memory);

        assertThat(memory.getLongLE(0)).isEqualTo(TierLayout.MAGIC);
        assertThat(memory.getIntLE(8)).isEqualTo(TierLayout.LAYOUT_VERSION);
        assertThat(memory.getIntLE(16)).isEqualTo(16);
        assertThat(tier.stats().free()).isEqualTo(16);
        assertThat(tier.stats().recoveredDirty()).isZero();
    }

    @Test
    void formattingClearsATableThatAnInterruptedFormatLeft() throws IOException {
        ByteBuf memory = TierPages.memory(16);
        for (int i = 8; i < memory.capacity(); i += 4) {
            memory.setIntLE(i, 0x01010101); // garbage everywhere but the magic, state DIRTY included
        }

        HostTier tier = openStopped(memory);

        assertThat(tier.stats().free()).isEqualTo(16);
        assertThat(tier.stats().dirty()).isZero();
    }

    @Test
    void theSlotCountFollowsTheDocumentedLayout() {
        assertThat(TierLayout.slotsFor(64L << 20)).isEqualTo(16256);
        assertThat(TierLayout.slotsFor(32L << 20)).isEqualTo(8127);
        assertThat(TierLayout.slotsFor(1L << 20)).isEqualTo(253);
        assertThat(TierLayout.slotsFor(3 * PAGE)).isEqualTo(1);
        assertThat(TierLayout.slotsFor(3 * PAGE - 1)).isZero();
        for (long bytes = 3 * PAGE; bytes < (4L << 20); bytes += 4096 * 7 + 13) {
            int slots = TierLayout.slotsFor(bytes);
            long table = ((long) slots * TierLayout.ENTRY_BYTES + PAGE - 1) / PAGE * PAGE;
            assertThat(TierLayout.HEADER_BYTES + table + (long) slots * PAGE).isLessThanOrEqualTo(bytes);
            long tableOfOneMore = ((slots + 1L) * TierLayout.ENTRY_BYTES + PAGE - 1) / PAGE * PAGE;
            assertThat(TierLayout.HEADER_BYTES + tableOfOneMore + (slots + 1L) * PAGE).isGreaterThan(bytes);
        }
    }

    @Test
    void dirtyPagesSurviveAndAreFlushedByTheNextTier() throws IOException {
        ByteBuf memory = TierPages.memory(16);
        HostTier first = openStopped(memory);
        for (long p = 0; p < 10; p++) {
            write(first, p, 1);
        }
        first.flushBurst(); // all 10 on the donors...
        for (long p = 5; p < 12; p++) {
            write(first, p, 2); // ...then 5..11 written again and not flushed: the daemon dies
        }

        HostTier second = openStopped(memory);

        TierStats stats = second.stats();
        assertThat(stats.recoveredDirty()).isEqualTo(7);
        assertThat(stats.dirty()).isEqualTo(7);
        assertThat(stats.clean()).as("clean pages are not kept").isZero();
        assertThat(stats.free()).isEqualTo(9);
        for (long p = 5; p < 12; p++) {
            assertThat(read(second, p)).isEqualTo(2);
        }
        second.flushBurst();
        for (long p = 0; p < 12; p++) {
            assertThat(valueOf(backing.page(p), p)).isEqualTo(p < 5 ? 1 : 2);
        }
        assertThat(second.stats().dirty()).isZero();
    }

    @Test
    void ofTwoDirtyVersionsOfAPageTheHigherWins() throws IOException {
        ByteBuf memory = TierPages.memory(8);
        HostTier first = openStopped(memory);
        write(first, 4, 1);
        int older = slotsOf(memory, 4, TierLayout.DIRTY).get(0);
        write(first, 4, 2);
        // The crash came between the new slot's DIRTY and the old one's FREE.
        TierLayout.attach(memory).publish(older, TierLayout.DIRTY);
        assertThat(slotsOf(memory, 4, TierLayout.DIRTY)).hasSize(2);

        HostTier second = openStopped(memory);

        assertThat(second.stats().recoveredDirty()).isEqualTo(1);
        assertThat(slotsOf(memory, 4, TierLayout.DIRTY)).hasSize(1).doesNotContain(older);
        assertThat(read(second, 4)).isEqualTo(2);
    }

    @Test
    void aDirtySlotWhoseDataDoesNotMatchItsCrcIsDropped() throws IOException {
        ByteBuf memory = TierPages.memory(8);
        HostTier first = openStopped(memory);
        write(first, 1, 1);
        write(first, 2, 1);
        int damaged = slotsOf(memory, 2, TierLayout.DIRTY).get(0);
        TierLayout layout = TierLayout.attach(memory);
        memory.setByte(layout.dataAt(damaged) + 100, memory.getByte(layout.dataAt(damaged) + 100) ^ 1);

        HostTier second = openStopped(memory);

        assertThat(second.stats().recoveredDirty()).isEqualTo(1);
        assertThat(read(second, 1)).isEqualTo(1);
        assertThat(read(second, 2)).isEqualTo(-1);
    }

    @Test
    void versionsGoOnAboveTheHighestRecovered() throws IOException {
        ByteBuf memory = TierPages.memory(8);
        HostTier first = openStopped(memory);
        for (int v = 0; v < 5; v++) {
            write(first, 3, v);
        }
        TierLayout layout = TierLayout.attach(memory);
        long highest = layout.version(slotsOf(memory, 3, TierLayout.DIRTY).get(0));

        HostTier second = openStopped(memory);
        write(second, 6, 1);

        assertThat(layout.version(slotsOf(memory, 6, TierLayout.DIRTY).get(0))).isEqualTo(highest + 1);
    }

    @Test
    void memoryThatIsNeitherZeroNorATierIsRefused() {
        ByteBuf memory = TierPages.memory(8);
        memory.setLongLE(0, 0x1234);

        assertThatThrownBy(() -> openStopped(memory))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("starts with 0x0000000000001234, neither zero nor a host tier's magic");
    }

    @Test
    void anotherLayoutVersionIsRefusedWithWhatToDo() throws IOException {
        ByteBuf memory = TierPages.memory(8);
        openStopped(memory);
        memory.setIntLE(8, 2);

        assertThatThrownBy(() -> openStopped(memory))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("holds layout version 2; this daemon reads version 1")
                .hasMessageContaining("start the Valet version that wrote it");
    }

    @Test
    void aHeaderBiggerThanItsMemoryIsRefused() throws IOException {
        ByteBuf memory = TierPages.memory(8);
        openStopped(memory);

        assertThatThrownBy(() -> openStopped(memory.slice(0, memory.capacity() - PAGE)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("host tier header does not fit its memory");
    }

    @Test
    void aDirtyPageBeyondTheSwapSpaceIsRefusedNotDropped() throws IOException {
        ByteBuf memory = TierPages.memory(8);
        HostTier first = openStopped(memory);
        write(first, PAGES - 1, 1);

        assertThatThrownBy(() -> HostTier.openStopped(memory, backing,
                new HostTier.Settings(PAGES - 1, 16, 8, false, 8, 8)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("holds dirty page 1023, beyond the swap space of 1023 pages");
    }

    @Test
    void openServesAtOnceAndWritesRecoveredPagesOutInTheBackgroundRetryingWhileTheBackingStoreFails()
            throws Exception {
        ByteBuf memory = TierPages.memory(32);
        HostTier first = openStopped(memory);
        for (long p = 0; p < 20; p++) {
            write(first, p, 9);
        }
        backing.failWrites = true;

        HostTier second = HostTier.open(memory, backing, SETTINGS); // returns although no write-out succeeds
        opened.add(second);
        assertThat(second.stats().recoveredDirty()).isEqualTo(20);
        assertThat(read(second, 3)).as("a recovered page is read from the tier").isEqualTo(9);
        write(second, 3, 10); // a newer version supersedes the recovered one
        write(second, 25, 11);
        assertThat(read(second, 3)).isEqualTo(10);
        Await.until("flushes failing", Duration.ofSeconds(10), () -> backing.writeCalls > 20);
        assertThat(second.recoveredLeft()).isEqualTo(19);

        backing.failWrites = false;
        Await.until("the recovered pages written out", Duration.ofSeconds(20), () -> second.recoveredLeft() == 0);
        assertThat(second.awaitClean(Duration.ofSeconds(20))).isTrue();
        for (long p = 0; p < 20; p++) {
            assertThat(valueOf(backing.page(p), p)).isEqualTo(p == 3 ? 10 : 9);
        }
        assertThat(valueOf(backing.page(25), 25)).isEqualTo(11);
        TierStats stats = second.stats();
        assertThat(stats.recoveredDirty()).isEqualTo(20);
        assertThat(stats.flushFailures()).isPositive();
    }

    @Test
    void theFlushThreadWritesPagesOutInTheBackground() throws Exception {
        HostTier tier = HostTier.open(TierPages.memory(64), backing, SETTINGS);
        opened.add(tier);

        List<Answer> answers = new ArrayList<>();
        for (long p = 0; p < 200; p++) { // more than the tier holds: writes wait for the flush thread
            Answer answer = new Answer();
            tier.write(p, 1, page(p, 4), 0, answer);
            answers.add(answer);
        }

        Await.until("every write answered", Duration.ofSeconds(20), () -> answers.stream().allMatch(Answer::ok));
        assertThat(tier.awaitClean(Duration.ofSeconds(20))).isTrue();
        for (long p = 0; p < 200; p++) {
            assertThat(valueOf(backing.page(p), p)).isEqualTo(4);
        }
        assertThat(tier.stats().flushed()).isEqualTo(200);
    }
}
