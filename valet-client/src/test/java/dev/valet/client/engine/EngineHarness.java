package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.testing.Await;
import dev.valet.common.config.DonorConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.PagePattern;
import dev.valet.donor.DonorProcess;
import dev.valet.donor.server.DonorServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
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
    /** Donor servers in this JVM (when a test measures their threads), beside or instead of the processes. */
    final List<DonorServer> inProcess = new ArrayList<>();
    private final List<DonorAddress> inProcessAddresses = new ArrayList<>();
    final Path dir;
    Engine engine;

    EngineHarness(Path dir) {
        this.dir = dir;
    }

    EngineHarness startDonors(int n, String memory) throws IOException {
        for (int i = 0; i < n; i++) {
            donors.add(DonorProcess.start(dir, "d" + i, "memory: " + memory + "\nlockMemory: false\n"));
        }
        return this;
    }

    /** {@code n} donor servers in this JVM on ephemeral loopback ports, their memory not locked. */
    EngineHarness startDonorsInProcess(int n, String memory) throws InterruptedException {
        for (int i = 0; i < n; i++) {
            DonorServer server = new DonorServer(ConfigLoader.parse("donor.yaml",
                    "listen: 127.0.0.1:0\nmemory: " + memory + "\nlockMemory: false\n", DonorConfig.class));
            inProcess.add(server);
            inProcessAddresses.add(DonorAddress.parse("127.0.0.1:" + server.start().getPort()));
        }
        return this;
    }

    /** The engine tests' valet.yaml, with {@code more} keys set over it (e.g. {@code failover.migrationRate}). */
    static ClientConfig config(int replicas, int donorCount, ConfigOverride... more) {
        ClientConfig config = ConfigLoader.parse("engine-test", """
                identity: engine-test
                swapSpace: %d
                slabSize: %d
                maxPagesPerFrame: %d
                requestTimeout: 5s
                placement:
                  numReplica: %d
                  serverSelectNum: %d
                failover:
                  heartbeatInterval: 100ms
                  donorTimeout: 2s
                  reReplicationRate: 1G
                """.formatted(SWAP, SLAB, BATCH, replicas, Math.max(replicas, donorCount)), ClientConfig.class);
        return ConfigLoader.override(config, more);
    }

    /** {@code encryption.mode: aes-256-gcm} with a new key file (32 random bytes, mode 0600) in {@code dir}. */
    static List<ConfigOverride> encryption(Path dir) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path file = Files.createTempFile(dir, "page", ".key");
        Files.write(file, key);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return List.of(ConfigOverride.of("encryption.mode", "aes-256-gcm"),
                ConfigOverride.of("encryption.keyFile", file.toString()));
    }

    Engine start(ClientConfig config) throws IOException {
        config.validate();
        List<DonorAddress> addresses = new ArrayList<>(donors.stream().map(DonorProcess::address).toList());
        addresses.addAll(inProcessAddresses);
        engine = Engine.start(config, addresses);
        return engine;
    }

    long pages() {
        return engine.pageCount();
    }

    /** A buffer with the contents of pages {@code first .. first + n} in generation {@code gen}. */
    private static ByteBuf pages(long first, int n, long gen) {
        byte[] page = new byte[FrameHeader.PAGE_SIZE];
        ByteBuf buf = Unpooled.buffer(n * FrameHeader.PAGE_SIZE);
        for (int i = 0; i < n; i++) {
            PagePattern.fill(page, 5, 0, first + i, gen);
            buf.writeBytes(page);
        }
        return buf;
    }

    /** Writes pages {@code [from, to)} with generation {@code gen}, {@link #BATCH} at a time, 8 in flight. */
    void write(long from, long to, long gen) {
        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
        List<ByteBuf> buffers = new ArrayList<>();
        for (long first = from; first < to; first += BATCH) {
            int n = (int) Math.min(BATCH, to - first);
            ByteBuf buf = pages(first, n, gen);
            buffers.add(buf);
            inFlight.add(engine.write(first, n, buf, 0));
            if (inFlight.size() == 8) {
                inFlight.remove(0).join();
            }
        }
        inFlight.forEach(CompletableFuture::join);
        buffers.forEach(ByteBuf::release);
    }

    /**
     * Writes pages {@code [from, to)} with generation {@code gen}, every batch at once, without waiting: completes
     * when all did (exceptionally if one failed; its cause is the first failure).
     */
    CompletableFuture<Void> writeAsync(long from, long to, long gen) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        List<ByteBuf> buffers = new ArrayList<>();
        for (long first = from; first < to; first += BATCH) {
            int n = (int) Math.min(BATCH, to - first);
            ByteBuf buf = pages(first, n, gen);
            buffers.add(buf);
            all.add(engine.write(first, n, buf, 0));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .whenComplete((ok, err) -> buffers.forEach(ByteBuf::release));
    }

    /**
     * Reads pages {@code [from, to)} (at most {@link #BATCH}) without waiting; completes with how many differ from
     * generation {@code gen}'s content.
     */
    CompletableFuture<Long> mismatchesAsync(long from, long to, long gen) {
        int n = (int) (to - from);
        if (n < 1 || n > BATCH) {
            throw new IllegalArgumentException("1 to " + BATCH + " pages, not " + n);
        }
        ByteBuf buf = Unpooled.buffer(n * FrameHeader.PAGE_SIZE).writeZero(n * FrameHeader.PAGE_SIZE);
        return engine.read(from, n, buf, 0).thenApply(v -> {
            long bad = 0;
            byte[] expected = new byte[FrameHeader.PAGE_SIZE];
            for (int i = 0; i < n; i++) {
                PagePattern.fill(expected, 5, 0, from + i, gen);
                if (!java.util.Arrays.equals(expected,
                        ByteBufUtil.getBytes(buf, i * FrameHeader.PAGE_SIZE, FrameHeader.PAGE_SIZE))) {
                    bad++;
                }
            }
            return bad;
        }).whenComplete((ok, err) -> buf.release());
    }

    /**
     * For every touched slab overlapping {@code [from, to)} and each of its full copies, reads the slab's pages in
     * that range with only that copy to ask (the others set aside for the read): how many pages, over all copies,
     * differ from generation {@code gen}. Zero means every copy alone is current.
     */
    long mismatchesOfEachCopyAlone(long from, long to, long gen) {
        long bad = 0;
        for (SlabEntry s : engine.slabMap().touched()) {
            long lo = Math.max(from, s.firstPage());
            long hi = Math.min(to, s.firstPage() + s.pageCount());
            if (lo >= hi) {
                continue;
            }
            List<RemoteDonor> all = s.replicas();
            try {
                for (RemoteDonor keep : all) {
                    s.setReplicas(List.of(keep));
                    bad += mismatches(lo, hi, gen);
                }
            } finally {
                s.setReplicas(all);
            }
        }
        return bad;
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

    /** Waits until {@code d} is in {@code state}; fails after {@code timeout}. */
    static void awaitState(RemoteDonor d, RemoteDonor.State state, Duration timeout) throws InterruptedException {
        Await.until(() -> "donor " + d + " to be " + state + " (it is " + d.state() + ")", timeout,
                () -> d.state() == state);
    }

    /**
     * Records every state a donor goes through, sampled every millisecond on a thread of its own, until closed
     * (a state held for less than a sample may be missed).
     */
    static final class StateTrace implements AutoCloseable {
        private final List<RemoteDonor.State> states = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final RemoteDonor donor;
        private final Thread sampler;
        private volatile boolean running = true;

        StateTrace(RemoteDonor d) {
            states.add(d.state());
            this.donor = d;
            sampler = new Thread(() -> {
                while (running) {
                    sample();
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "state-trace-" + d);
            sampler.setDaemon(true);
            sampler.start();
        }

        private synchronized void sample() {
            RemoteDonor.State s = donor.state();
            if (states.get(states.size() - 1) != s) {
                states.add(s);
            }
        }

        /**
         * The states seen so far, in order, without repeats, ending with the current one (a caller that has just
         * awaited a state must find it here, even before the sampler's next look).
         */
        List<RemoteDonor.State> states() {
            sample();
            return List.copyOf(states);
        }

        @Override
        public void close() {
            running = false;
            try {
                sampler.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // kept for the caller: close() must not throw it
            }
        }
    }

    void awaitFullyReplicated() throws InterruptedException {
        if (!engine.awaitFullyReplicated(Duration.ofSeconds(60), Duration.ofMillis(100), s -> { })) {
            throw new AssertionError("copies not restored within 60 s: " + engine.stats());
        }
    }

    /** Closes the engine, then every donor (a paused one is resumed first, so that it can stop cleanly). */
    @Override
    public void close() throws IOException {
        if (engine != null) {
            engine.close();
        }
        for (DonorProcess p : donors) {
            if (p.isAlive()) {
                try {
                    p.resume();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // kept for the caller: close() must not throw it
                }
            }
            p.close();
        }
        for (DonorServer server : inProcess) {
            server.close();
        }
    }
}
