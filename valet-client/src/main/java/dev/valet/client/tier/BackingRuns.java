package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;

/**
 * The tier's calls to the backing store, one per run of consecutive pages rather than one per page: the slots a
 * burst of flushes or reads ahead picked (linked through {@link SlotTable#next}) are cut into {@link Run}s of up to
 * {@link #MAX_RUN} pages whose page numbers follow each other. A run whose slots also lie side by side in the
 * tier's memory is written or read in place; any other run goes through a staging chunk of preallocated memory (a
 * flush copies its slots in before the write, a read ahead copies out after the read). With no chunk free a run is
 * cut after its first page, which needs none. Run records are pooled ({@link RecordPool}); the staging memory never
 * grows. Not thread safe: {@link #cut} and {@link #give} run under the tier's
 * lock, the copies outside it (the slots are flushing or filling, so nothing else touches their data).
 */
final class BackingRuns {
    /** Most pages in one backing call. */
    static final int MAX_RUN = 32;
    private static final int PAGE = TierLayout.PAGE;

    /** What a run's end calls: the tier, which settles each of its slots. */
    @FunctionalInterface
    interface Ending {
        void runDone(Run run, Throwable error);
    }

    /** One backing call: {@code count} slots holding pages {@code firstPage ..}, and where the call reads or writes. */
    static final class Run implements PageIoDone {
        private final Ending ending;
        final int[] slots = new int[MAX_RUN];
        int count;
        long firstPage;
        boolean write;
        /** Where the backing store reads (flush) or writes (read ahead) the run's pages. */
        ByteBuf buffer;
        int index;
        /** The staging chunk in use, or -1 when the run is in place. */
        int chunk = -1;
        /** The next run of the same cut. */
        Run next;

        Run(Ending ending) {
            this.ending = ending;
        }

        @Override
        public void pageIoDone(Throwable error) {
            ending.runDone(this, error);
        }
    }

    private final SlotTable slots;
    private final TierLayout layout;
    private final ByteBuf staging;
    private final int[] freeChunks;
    private int freeChunkCount;
    private final RecordPool<Run> freeRuns;
    /** Backing calls cut, and the pages they carry (counters). */
    long calls;
    long pages;

    /**
     * @param chunks staging chunks of {@link #MAX_RUN} pages each, the most runs of scattered slots in flight
     * @param runs   run records preallocated
     */
    BackingRuns(SlotTable slots, TierLayout layout, Ending ending, int chunks, int runs) {
        this.slots = slots;
        this.layout = layout;
        // Freed by the garbage collector, not by the tier: a backing call may still use it after the tier closes.
        this.staging = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(chunks * MAX_RUN * PAGE));
        this.freeChunks = new int[chunks];
        for (int c = 0; c < chunks; c++) {
            freeChunks[freeChunkCount++] = c;
        }
        this.freeRuns = new RecordPool<>(() -> new Run(ending), runs);
    }

    /**
     * Cuts the slots linked from {@code first} into runs, in order, taking staging chunks for scattered ones.
     *
     * @return the first run, the rest linked through {@link Run#next}; null for no slot
     */
    Run cut(int first, boolean write) {
        Run head = null;
        Run tail = null;
        int slot = first;
        while (slot != SlotTable.NONE) {
            Run run = freeRuns.take();
            run.write = write;
            run.firstPage = slots.page[slot];
            run.slots[0] = slot;
            run.count = 1;
            slot = slots.next[slot];
            boolean inPlace = true;
            boolean canStage = freeChunkCount > 0;
            while (slot != SlotTable.NONE && run.count < MAX_RUN) {
                int last = run.slots[run.count - 1];
                if (slots.page[slot] != slots.page[last] + 1) {
                    break;
                }
                boolean adjacent = slot == last + 1;
                if (!adjacent && inPlace && !canStage) {
                    break; // scattered, and nowhere to stage it: the run ends here
                }
                inPlace &= adjacent;
                run.slots[run.count++] = slot;
                slot = slots.next[slot];
            }
            if (inPlace) {
                run.chunk = -1;
                run.buffer = layout.memory();
                run.index = layout.dataAt(run.slots[0]);
            } else {
                run.chunk = freeChunks[--freeChunkCount];
                run.buffer = staging;
                run.index = run.chunk * MAX_RUN * PAGE;
            }
            calls++;
            pages += run.count;
            if (tail == null) {
                head = run;
            } else {
                tail.next = run;
            }
            tail = run;
        }
        return head;
    }

    /** Before a flush's write: copies its scattered slots into its staging chunk. */
    void stageIn(Run run) {
        if (run.chunk >= 0) {
            for (int i = 0; i < run.count; i++) {
                staging.setBytes(run.index + i * PAGE, layout.memory(), layout.dataAt(run.slots[i]), PAGE);
            }
        }
    }

    /** After a read ahead's read: copies its staging chunk out to its scattered slots. */
    void stageOut(Run run) {
        if (run.chunk >= 0) {
            for (int i = 0; i < run.count; i++) {
                layout.memory().setBytes(layout.dataAt(run.slots[i]), staging, run.index + i * PAGE, PAGE);
            }
        }
    }

    /** A run has ended and its slots are settled: its chunk and record are free again. */
    void give(Run run) {
        if (run.chunk >= 0) {
            freeChunks[freeChunkCount++] = run.chunk;
            run.chunk = -1;
        }
        run.buffer = null;
        run.next = null;
        freeRuns.give(run);
    }
}
