package dev.valet.client.engine;

import dev.valet.client.check.PagePattern;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.FailoverConfig;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Real donor processes on loopback and an engine over them, with quick failure detection, for the engine's
 * system tests. Page contents come from {@link PagePattern} keyed by (page, generation).
 */
final class EngineHarness implements AutoCloseable {
    static final long SWAP = 32L << 20;
    static final long SLAB = 2L << 20;
    static final int BATCH = 32;

    final List<DonorProcess> donors = new ArrayList<>();
    final Path dir;
    Engine engine;

    EngineHarness(Path dir) {
        this.dir = dir;
    }

    EngineHarness startDonors(int n, String memory) throws IOException {
        for (int i = 0; i < n; i++) {
            donors.add(DonorProcess.start(dir, "d" + i, "--memory", memory, "--no-lock-memory"));
        }
        return this;
    }

    static ClientConfig config(int replicas, int donorCount) {
        ClientConfig d = ClientConfig.defaults();
        return d.withIdentity("engine-test")
                .withSwapSpace(ByteSize.ofBytes(SWAP))
                .withSlabSize(ByteSize.ofBytes(SLAB))
                .withMaxPagesPerFrame(BATCH)
                .withRequestTimeout(Duration.ofSeconds(5))
                .withPlacement(d.placement().withNumReplica(replicas)
                        .withServerSelectNum(Math.max(replicas, donorCount)))
                .withFailover(new FailoverConfig(Duration.ofMillis(100), Duration.ofSeconds(2),
                        ByteSize.ofGibibytes(1)));
    }

    Engine start(ClientConfig config) throws IOException {
        config.validate();
        engine = Engine.start(config, donors.stream().map(DonorProcess::address).toList());
        return engine;
    }

    long pages() {
        return engine.pageCount();
    }

    /** Writes pages {@code [from, to)} with generation {@code gen}, {@link #BATCH} at a time, 8 in flight. */
    void write(long from, long to, long gen) {
        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
        List<ByteBuf> buffers = new ArrayList<>();
        byte[] page = new byte[FrameHeader.PAGE_SIZE];
        for (long first = from; first < to; first += BATCH) {
            int n = (int) Math.min(BATCH, to - first);
            ByteBuf buf = Unpooled.buffer(n * FrameHeader.PAGE_SIZE);
            for (int i = 0; i < n; i++) {
                PagePattern.fill(page, 5, 0, first + i, gen);
                buf.writeBytes(page);
            }
            buffers.add(buf);
            inFlight.add(engine.write(first, n, buf, 0));
            if (inFlight.size() == 8) {
                inFlight.remove(0).join();
            }
        }
        inFlight.forEach(CompletableFuture::join);
        buffers.forEach(ByteBuf::release);
    }

    /** Reads pages {@code [from, to)} and returns how many differ from generation {@code gen}'s content. */
    long mismatches(long from, long to, long gen) {
        long bad = 0;
        byte[] expected = new byte[FrameHeader.PAGE_SIZE];
        ByteBuf buf = Unpooled.buffer(BATCH * FrameHeader.PAGE_SIZE);
        try {
            for (long first = from; first < to; first += BATCH) {
                int n = (int) Math.min(BATCH, to - first);
                buf.clear().writeZero(n * FrameHeader.PAGE_SIZE);
                engine.read(first, n, buf, 0).join();
                for (int i = 0; i < n; i++) {
                    PagePattern.fill(expected, 5, 0, first + i, gen);
                    if (!java.util.Arrays.equals(expected,
                            ByteBufUtil.getBytes(buf, i * FrameHeader.PAGE_SIZE, FrameHeader.PAGE_SIZE))) {
                        bad++;
                    }
                }
            }
        } finally {
            buf.release();
        }
        return bad;
    }

    RemoteDonor remote(DonorProcess p) {
        return engine.donors().stream().filter(d -> d.address().equals(p.address())).findFirst().orElseThrow();
    }

    /** The process of a donor holding a copy of {@code slab}. */
    DonorProcess holderOf(SlabEntry slab) {
        RemoteDonor holder = slab.replicas().get(0);
        return donors.stream().filter(p -> p.address().equals(holder.address())).findFirst().orElseThrow();
    }

    /** Slabs that have a copy on {@code p}. */
    List<SlabEntry> slabsOn(DonorProcess p) {
        RemoteDonor d = remote(p);
        return engine.slabMap().touched().stream().filter(s -> s.replicas().contains(d)).toList();
    }

    void awaitFullyReplicated() throws InterruptedException {
        if (!engine.awaitFullyReplicated(Duration.ofSeconds(60), Duration.ofMillis(100), s -> { })) {
            throw new AssertionError("copies not restored within 60 s: " + engine.stats());
        }
    }

    @Override
    public void close() throws Exception {
        if (engine != null) {
            engine.close();
        }
        for (DonorProcess p : donors) {
            if (p.isAlive()) {
                p.resume();
            }
            p.close();
        }
    }
}
