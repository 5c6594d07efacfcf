package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import dev.valet.common.testing.ThreadAllocation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;


import static dev.valet.client.tier.TierPages.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing is allocated per request: writes, flushes and their answers, reads that hit, miss or partly hit, and reads
 * ahead, measured with the JVM's per-thread allocation counter over many requests after a warm-up. The store
 * behind answers at once and allocates nothing itself.
 */
class HostTierAllocationTest {
    private static final long PAGES = 4096;

    /** Answers every call at once, allocating nothing. */
    private static final class Immediate implements PageStore {
        @Override
        public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
            done.pageIoDone(null);
        }

        @Override
        public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
            done.pageIoDone(null);
        }
    }

    @Test
    void theHotPathAllocatesNothing() throws Exception {
        try (HostTier tier = HostTier.openStopped(TierPages.memory(128), new Immediate(),
                new HostTier.Settings(PAGES, 16, 16, true, 8, 16))) {
            ByteBuf src = TierPages.pages(0, 4, 1);
            ByteBuf dst = Unpooled.directBuffer(4 * PAGE);
            PageIoDone done = error -> { };
            long allocated = ThreadAllocation.of(() -> run(tier, src, dst, done, 20_000), // warm up: pools, code
                    () -> run(tier, src, dst, done, 20_000));

            System.out.printf("host tier: %d bytes allocated over 20000 rounds of writes, flushes and reads%n",
                    allocated);
            assertThat(allocated).isLessThan(4096);
            assertThat(tier.stats().prefetched()).isPositive();
        }
    }

    private static void run(HostTier tier, ByteBuf src, ByteBuf dst, PageIoDone done, int rounds) {
        for (int i = 0; i < rounds; i++) {
            long page = (i * 4L) % (PAGES - 8);
            tier.write(page, 4, src, 0, done); // four new dirty pages
            tier.flushBurst(); // written out, clean
            tier.read(page, 4, dst, 0, done); // all hit
            tier.read(page + 2, 4, dst, 0, done); // partly hit
            tier.read((page + 2048) % (PAGES - 4), 1, dst, 0, done); // a miss in a sequential stream: read ahead
        }
    }
}
