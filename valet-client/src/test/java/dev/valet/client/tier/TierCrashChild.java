package dev.valet.client.tier;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.kernel.PageStore;
import dev.valet.client.tier.TierPages.Answer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The daemon {@link HostTierKillTest} kills: it opens a tier on a shared mapping of a file (as the real one maps
 * the driver's memory) in front of a store that never answers, so every page stays dirty, and writes rounds of
 * pages for ever, printing {@code ACK page value} for each write the tier acknowledged (in batches, so that the
 * kill mostly lands in the tier's code, not in a print).
 *
 * <p>Arguments: the file, its size in bytes, the pages to write, the first value.
 */
public final class TierCrashChild {
    private static final int PRINT_EVERY = 32;

    private TierCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int bytes = Integer.parseInt(args[1]);
        int pages = Integer.parseInt(args[2]);
        long value = Long.parseLong(args[3]);
        PageStore silent = new PageStore() {
            @Override
            public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
                // never answers: the donors are unreachable
            }

            @Override
            public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
                // never answers
            }
        };
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuf memory = Unpooled.wrappedBuffer(channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes));
            HostTier tier = HostTier.open(memory, silent, HostTierKillTest.settings(pages));
            Writer out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII), 1 << 16);
            out.write("OPEN " + tier.stats().recoveredDirty() + "\n");
            out.flush();
            ByteBuf src = Unpooled.directBuffer(TierPages.PAGE);
            Answer answer = new Answer();
            for (int n = 1; ; value++) {
                for (int page = 0; page < pages; page++, n++) {
                    TierPages.fill(src, 0, page, value);
                    answer = new Answer();
                    tier.write(page, 1, src, 0, answer);
                    if (!answer.ok()) {
                        throw new IllegalStateException("write of page " + page + " not acknowledged at once: "
                                + tier.stats());
                    }
                    out.write("ACK " + page + " " + value + "\n");
                    if (n % PRINT_EVERY == 0) {
                        out.flush();
                    }
                }
            }
        }
    }
}
