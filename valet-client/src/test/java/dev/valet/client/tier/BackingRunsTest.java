package dev.valet.client.tier;

import dev.valet.client.tier.BackingRuns.Run;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.valet.client.tier.TierPages.PAGE;
import static dev.valet.client.tier.TierPages.valueAt;
import static org.assertj.core.api.Assertions.assertThat;

/** How the tier's flushes and reads ahead are cut into backing calls: runs of consecutive pages, staged or in place. */
class BackingRunsTest {
    private final TierLayout layout = TierLayout.attach(TierPages.memory(128));
    private final SlotTable slots = new SlotTable(layout, 8);
    private final List<Run> ended = new ArrayList<>();

    private BackingRuns runs(int chunks) {
        return new BackingRuns(slots, layout, (run, error) -> ended.add(run), chunks, 2);
    }

    /** Links {@code slotOf[i]} holding page {@code pageOf[i]}, in order, with each slot's data naming its page. */
    private int list(long[] pageOf, int[] slotOf) {
        for (int i = 0; i < slotOf.length; i++) {
            slots.page[slotOf[i]] = pageOf[i];
            slots.next[slotOf[i]] = i + 1 < slotOf.length ? slotOf[i + 1] : SlotTable.NONE;
            layout.copyIn(slotOf[i], TierPages.page(pageOf[i], 7), 0);
        }
        return slotOf[0];
    }

    private static List<String> describe(Run first) {
        List<String> out = new ArrayList<>();
        for (Run r = first; r != null; r = r.next) {
            out.add(r.firstPage + "+" + r.count + (r.chunk >= 0 ? " staged" : " in place"));
        }
        return out;
    }

    @Test
    void consecutivePagesInAdjacentSlotsGoAsOneCallInPlace() {
        BackingRuns runs = runs(4);
        Run first = runs.cut(list(new long[] {10, 11, 12, 13}, new int[] {5, 6, 7, 8}), true);

        assertThat(describe(first)).containsExactly("10+4 in place");
        assertThat(first.buffer).isSameAs(layout.memory());
        assertThat(first.index).isEqualTo(layout.dataAt(5));
        assertThat(runs.calls).isEqualTo(1);
        assertThat(runs.pages).isEqualTo(4);
    }

    @Test
    void runsEndAtAGapInThePagesAndAtThirtyTwoPages() {
        long[] pages = new long[40];
        int[] slotOf = new int[40];
        for (int i = 0; i < 40; i++) {
            pages[i] = i < 36 ? 100 + i : 200 + i; // a gap after page 135
            slotOf[i] = i;
        }
        Run first = runs(4).cut(list(pages, slotOf), true);

        assertThat(describe(first)).containsExactly("100+32 in place", "132+4 in place", "236+4 in place");
    }

    @Test
    void scatteredSlotsAreStagedInOrderAndCopiedBothWays() {
        BackingRuns runs = runs(4);
        Run flush = runs.cut(list(new long[] {20, 21, 22}, new int[] {9, 3, 40}), true);
        assertThat(describe(flush)).containsExactly("20+3 staged");

        runs.stageIn(flush);
        for (int i = 0; i < 3; i++) {
            assertThat(valueAt(flush.buffer, flush.index + i * PAGE, 20 + i)).isEqualTo(7);
        }

        Run fill = runs.cut(list(new long[] {30, 31}, new int[] {12, 2}), false);
        fill.buffer.setBytes(fill.index, TierPages.pages(30, 2, 9), 0, 2 * PAGE); // what the donors return
        runs.stageOut(fill);
        ByteBuf out = TierPages.memory(1);
        layout.copyOut(12, out, 0);
        assertThat(valueAt(out, 0, 30)).isEqualTo(9);
        layout.copyOut(2, out, 0);
        assertThat(valueAt(out, 0, 31)).isEqualTo(9);
    }

    @Test
    void withNoStagingChunkFreeAScatteredRunIsCutToSinglePagesUntilOneIsGivenBack() {
        BackingRuns runs = runs(1);
        Run staged = runs.cut(list(new long[] {0, 1}, new int[] {50, 20}), true);
        assertThat(describe(staged)).containsExactly("0+2 staged");

        Run single = runs.cut(list(new long[] {5, 6, 7}, new int[] {60, 30, 31}), true);
        assertThat(describe(single)).as("page 5 alone; 6 and 7 lie side by side")
                .containsExactly("5+1 in place", "6+2 in place");

        runs.give(staged);
        Run again = runs.cut(list(new long[] {8, 9}, new int[] {70, 10}), true);
        assertThat(describe(again)).containsExactly("8+2 staged");
    }

    @Test
    void runRecordsAreReusedAndThePoolGrowsOnlyPastItsMostAtOnce() {
        BackingRuns runs = runs(4);
        Run a = runs.cut(list(new long[] {0}, new int[] {0}), true);
        Run b = runs.cut(list(new long[] {1}, new int[] {1}), true);
        Run c = runs.cut(list(new long[] {2}, new int[] {2}), true); // beyond the 2 preallocated
        runs.give(a);
        runs.give(b);
        runs.give(c);

        Run d = runs.cut(list(new long[] {3}, new int[] {3}), true);
        assertThat(d).isIn(a, b, c);
    }
}
