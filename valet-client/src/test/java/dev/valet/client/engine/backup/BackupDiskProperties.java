package dev.valet.client.engine.backup;

import io.netty.buffer.ByteBuf;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.valet.client.engine.backup.BackupPages.PAGE;
import static dev.valet.client.engine.backup.BackupPages.assertHolds;
import static dev.valet.client.engine.backup.BackupPages.await;
import static dev.valet.client.engine.backup.BackupPages.scratch;
import static dev.valet.client.engine.backup.BackupPages.write;

class BackupDiskProperties {
    private static final int PAGES = 32;

    /**
     * Whatever the order of writes and the ring size (small rings wrap and block; runs of adjacent pages are
     * coalesced), once the queue drains every page holds the content of its last write.
     */
    @Property(tries = 100)
    void everyPageHoldsItsLastWrite(@ForAll("writes") List<Integer> pageOfEachWrite,
            @ForAll @IntRange(min = 1, max = 16) int ringPages) throws Exception {
        Path dir = Files.createTempDirectory("backup-disk");
        ByteBuf src = scratch();
        try (BackupDisk disk = BackupDisk.open(dir.resolve("disk"), PAGES * PAGE, ringPages)) {
            Map<Integer, Integer> lastVersion = new HashMap<>();
            long last = 0;
            for (int version = 0; version < pageOfEachWrite.size(); version++) {
                int page = pageOfEachWrite.get(version);
                last = write(disk, src, page, version);
                lastVersion.put(page, version);
            }
            await(disk.whenWritten(last));

            for (Map.Entry<Integer, Integer> e : lastVersion.entrySet()) {
                assertHolds(disk, e.getKey(), e.getValue());
            }
        } finally {
            src.release();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** Page numbers, with runs of consecutive pages mixed in so coalescing gets exercised. */
    @Provide
    Arbitrary<List<Integer>> writes() {
        Arbitrary<List<Integer>> single = Arbitraries.integers().between(0, PAGES - 1).map(List::of);
        Arbitrary<List<Integer>> run = Arbitraries.integers().between(0, PAGES - 1)
                .flatMap(start -> Arbitraries.integers().between(1, PAGES - start)
                        .map(length -> Stream.iterate(start, p -> p + 1).limit(length).toList()));
        return Arbitraries.oneOf(single, run).list().ofMinSize(1).ofMaxSize(60)
                .map(parts -> parts.stream().flatMap(List::stream).toList());
    }
}
