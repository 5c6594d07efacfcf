package dev.valet.memory;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random sequences of allocate, write, read, free (one at a time, in bulk, async) on two real donor processes, each
 * read checked byte for byte against an in-memory model. One memory without a cache and one with a small one (so
 * pages are evicted all the time) serve every try; a try frees what it allocated, so later tries reuse the space of
 * earlier ones (and must read zeros there).
 */
class RemoteMemoryPropertyTest {
    private static Path dir;
    private static LoopbackCluster cluster;
    private static RemoteMemory plain;
    private static RemoteMemory cached;

    enum Kind { ALLOCATE, WRITE, READ, FREE, BULK_WRITE, BULK_READ, ASYNC_WRITE, ASYNC_READ }

    /** One step: what to do, the size of a new region, which region ({@code pick} mod live), where, and how. */
    record Op(Kind kind, long size, int pick, double from, double length, boolean direct, long seed) {
    }

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("valet-memory-properties-");
        cluster = new LoopbackCluster(dir, 2);
        plain = cluster.connect("prop-plain", 2, MemoryOptions.DEFAULTS);
        cached = cluster.connect("prop-cached", 2, MemoryOptions.DEFAULTS.withCacheBytes(96 << 10));
    }

    @AfterContainer
    static void stop() throws IOException {
        for (RemoteMemory m : new RemoteMemory[] {plain, cached}) {
            if (m != null) {
                m.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Kind> kinds = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.just(Kind.ALLOCATE)),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Kind.WRITE)),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Kind.READ)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.FREE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.BULK_WRITE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.BULK_READ)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.ASYNC_WRITE)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.ASYNC_READ)));
        Arbitrary<Long> sizes = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.longs().between(1, 2048)),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(2049, 40_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(40_001, 3L << 19)));
        Arbitrary<Double> fractions = Arbitraries.doubles().between(0, 1);
        Arbitrary<Op> op = Combinators.combine(kinds, sizes, Arbitraries.integers().between(0, 1000), fractions,
                fractions, Arbitraries.of(true, false), Arbitraries.longs()).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property(tries = 30)
    void everyReadReturnsWhatTheModelHolds(@ForAll("operations") List<Op> ops, @ForAll boolean withCache)
            throws Exception {
        RemoteMemory memory = withCache ? cached : plain;
        List<MemoryModel> live = new ArrayList<>();
        try {
            for (Op op : ops) {
                apply(memory, live, op);
            }
            for (MemoryModel m : live) {
                ByteBuffer all = ByteBuffer.allocate((int) m.region.size());
                m.region.read(0, all);
                assertThat(m.wrongBytes(0, all.flip())).as("%s at the end", m.region).isZero();
            }
        } finally {
            for (MemoryModel m : live) {
                m.region.free();
            }
        }
        assertThat(memory.stats().regions()).isZero();
        assertThat(memory.stats().freeBytes()).as("a space freed entirely is whole again")
                .isEqualTo(memory.capacity());
    }

    @Property(tries = 10)
    void spaceFreedAndPlacedAgainReadsAsZeros(@ForAll("regionSizes") List<Long> sizes, @ForAll long seed,
                                              @ForAll boolean withCache) throws Exception {
        RemoteMemory memory = withCache ? cached : plain;
        Random random = new Random(seed);
        List<MemoryModel> filled = new ArrayList<>();
        List<MemoryModel> fresh = new ArrayList<>();
        try {
            for (long size : sizes) {
                MemoryModel m = new MemoryModel(memory.allocate(size));
                m.region.write(0, m.change(0, m.bytes.length, random, random.nextBoolean()));
                filled.add(m);
            }
            for (MemoryModel m : new ArrayList<>(filled)) {
                if (random.nextBoolean()) {
                    m.region.free();
                    filled.remove(m);
                    fresh.add(new MemoryModel(memory.allocate(m.bytes.length)));
                }
            }
            for (MemoryModel m : fresh) {
                ByteBuffer b = ByteBuffer.allocate(m.bytes.length);
                m.region.read(0, b);
                assertThat(m.wrongBytes(0, b.flip())).as("%s placed where another was", m.region).isZero();
            }
            for (MemoryModel m : filled) {
                ByteBuffer b = ByteBuffer.allocateDirect(m.bytes.length);
                m.region.read(0, b);
                assertThat(m.wrongBytes(0, b.flip())).as("%s beside them", m.region).isZero();
            }
        } finally {
            for (MemoryModel m : filled) {
                m.region.free();
            }
            for (MemoryModel m : fresh) {
                m.region.free();
            }
        }
    }

    @Provide
    Arbitrary<List<Long>> regionSizes() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(1, 2048)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(2049, 100_000))).list().ofMinSize(1)
                .ofMaxSize(60);
    }

    private static void apply(RemoteMemory memory, List<MemoryModel> live, Op op) throws Exception {
        if (op.kind() == Kind.ALLOCATE || live.isEmpty()) {
            MemoryModel m = new MemoryModel(memory.allocate(op.size()));
            live.add(m);
            if (op.direct()) { // half the regions are filled at once, so that freed space holds data to hide
                m.region.write(0, m.change(0, m.bytes.length, new Random(op.seed()), false));
            }
            return;
        }
        Random random = new Random(op.seed());
        MemoryModel m = live.get(op.pick() % live.size());
        int size = m.bytes.length;
        int from = (int) (op.from() * size);
        int n = Math.max(1, (int) (op.length() * (size - from)));
        if (from + n > size) {
            from = size - n;
        }
        switch (op.kind()) {
            case WRITE -> m.region.write(from, m.change(from, n, random, op.direct()));
            case ASYNC_WRITE -> m.region.writeAsync(from, m.change(from, n, random, op.direct())).get();
            case READ, ASYNC_READ -> {
                ByteBuffer b = op.direct() ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
                if (op.kind() == Kind.READ) {
                    m.region.read(from, b);
                } else {
                    m.region.readAsync(from, b).get();
                }
                assertThat(m.wrongBytes(from, b.flip())).as("%s bytes %d+%d", m.region, from, n).isZero();
            }
            case FREE -> {
                m.region.free();
                live.remove(m);
            }
            case BULK_WRITE, BULK_READ -> bulk(memory, live, op, random);
            default -> throw new AssertionError(op);
        }
    }

    /** Up to 8 transfers over the live regions at once, some in one page (small regions share pages). */
    private static void bulk(RemoteMemory memory, List<MemoryModel> live, Op op, Random random) throws Exception {
        boolean write = op.kind() == Kind.BULK_WRITE;
        List<Transfer> transfers = new ArrayList<>();
        List<MemoryModel> of = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int i = 0, parts = 1 + random.nextInt(8); i < parts; i++) {
            MemoryModel m = live.get(random.nextInt(live.size()));
            if (write && of.contains(m)) {
                continue; // two writes of one region in one call land in some order: the model could not say which
            }
            int size = m.bytes.length;
            int from = random.nextInt(size);
            int n = 1 + random.nextInt(Math.min(size - from, 64 << 10));
            ByteBuffer b = write ? m.change(from, n, random, random.nextBoolean())
                    : random.nextBoolean() ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
            transfers.add(new Transfer(m.region, from, b));
            of.add(m);
            at.add(from);
        }
        if (write) {
            memory.write(transfers);
            return;
        }
        memory.read(transfers);
        for (int i = 0; i < transfers.size(); i++) {
            assertThat(of.get(i).wrongBytes(at.get(i), transfers.get(i).buffer().flip()))
                    .as("bulk part %d: %s bytes %d+", i, of.get(i).region, at.get(i)).isZero();
        }
    }
}
