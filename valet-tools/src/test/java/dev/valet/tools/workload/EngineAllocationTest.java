package dev.valet.tools.workload;

import dev.valet.client.engine.Engine;
import dev.valet.common.net.NettyTransport;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PagePattern;
import dev.valet.donor.DonorProcess;
import dev.valet.tools.LocalDonors;
import dev.valet.tools.LocalDonors.InProcessDonor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Heap bytes the client allocates per request in steady state (issue 13, "no allocation per request"): single-page
 * writes and reads, 8 in flight, through the real engine to two real donor processes, measured with
 * {@link ThreadCosts} after a warm-up long enough for the JIT.
 *
 * <p>The target is at most 64 bytes per request on the client's I/O threads (the netty event loops and the thread
 * that submits), and it is the bound. History on the development machine ({@code docs/performance.md}): 190 B per
 * request on the event loops and 1450 B on all threads (2026-12-02: futures, lambdas, a timer and a map entry per
 * request); 160 and 970 after the first cuts; about 20 and 45 once requests told preallocated callbacks, runs and
 * TCP requests were pooled and replies decoded in place (2026-12-03). Netty's leak detector is off here as in the
 * daemons ({@link NettyTransport#daemonBufferSettings}): its sampled stack traces would be most of what is left.
 * The test prints what it measured. It lives with the tools because it drives the engine with them
 * ({@link EngineLoad}) and measures with them.
 */
class EngineAllocationTest {
    /** valet-client-io-*: the transport's event loops. */
    static final double EVENT_LOOP_BOUND = 64;
    /** Every thread of this JVM: the event loops, the submitting thread, and the rest (timers, health checks). */
    static final double ALL_THREADS_BOUND = 64;

    static final int DEPTH = 8;
    static final long WARMUP_OPS = 20_000;
    static final long MEASURED_OPS = 10_000;
    static final int PREFILL_RUN = 32;
    /** A 32 MiB swap space of 2 MiB slabs, one copy each, on two donors. */
    static final String ENGINE = """
            identity: engine-test
            swapSpace: 32M
            slabSize: 2M
            maxPagesPerFrame: 32
            requestTimeout: 5s
            placement:
              numReplica: 1
              serverSelectNum: 2
            failover:
              heartbeatInterval: 100ms
              donorTimeout: 2s
              reReplicationRate: 1G
            """;

    @TempDir
    Path dir;

    @Test
    void steadySinglePageWritesAndReadsAllocateLittlePerRequest() throws Exception {
        NettyTransport.daemonBufferSettings();
        try (DonorProcess a = LocalDonors.process(dir, "d0", "128M", "lockMemory: false\n");
             DonorProcess b = LocalDonors.process(dir, "d1", "128M", "lockMemory: false\n")) {
            ThreadCosts.Totals t = measure(List.of(a.address(), b.address()), new long[] {a.pid(), b.pid()});
            double eventLoops = perRequest(t, "valet-client-io");
            double all = t.allocatedBytes() / (2.0 * MEASURED_OPS);
            System.out.printf("EngineAllocationTest: %.0f B/request on the event loops, %.0f B/request on all"
                    + " threads; by group: %s%n", eventLoops, all, t.groups());
            assertThat(eventLoops).as("bytes per request allocated by valet-client-io threads (target 64)")
                    .isGreaterThan(0).isLessThan(EVENT_LOOP_BOUND);
            assertThat(all).as("bytes per request allocated by all threads (target 64)").isLessThan(ALL_THREADS_BOUND);
        }
    }

    /**
     * The donor's request path (issue 13: "and the donor's request path"): the same load against two donor servers
     * in this JVM, whose event loops ({@code valet-donor-io}) decode, check, store or read and answer every request.
     */
    @Test
    void theDonorsRequestPathAllocatesLittlePerRequest() throws Exception {
        NettyTransport.daemonBufferSettings();
        try (InProcessDonor a = LocalDonors.inProcess("128M");
             InProcessDonor b = LocalDonors.inProcess("128M")) {
            ThreadCosts.Totals t = measure(List.of(a.address(), b.address()), new long[0]);
            double donorLoops = perRequest(t, "valet-donor-io");
            System.out.printf("EngineAllocationTest: %.0f B/request on the donors' event loops; by group: %s%n",
                    donorLoops, t.groups());
            assertThat(donorLoops).as("bytes per request allocated by valet-donor-io threads (target 64)")
                    .isGreaterThan(0).isLessThan(EVENT_LOOP_BOUND);
        }
    }

    /** Warm-up, then {@link #MEASURED_OPS} random single-page writes and as many reads, measured. */
    private static ThreadCosts.Totals measure(List<DonorAddress> donors, long[] donorPids) throws Exception {
        try (Engine engine = Engine.start(LocalDonors.client(ENGINE), donors)) {
            long pages = engine.pageCount();
            byte[] page = new byte[FrameHeader.PAGE_SIZE];
            PagePattern.fill(page, 5, 0, 0, 1);
            EngineLoad.PageFiller filler = (p, buf, index) -> buf.setBytes(index, page);
            EngineLoad.PageChecker any = (p, buf, index) -> true;  // what is read is the failover tests' business
            try (EngineLoad prefill = new EngineLoad(engine, 8, PREFILL_RUN)) {
                // every slab mapped, every page written: reads read, writes overwrite
                assertThat(prefill.write(EngineLoad.sequential(0, pages, PREFILL_RUN), filler, n -> { })
                        .failedPages()).isZero();
            }
            SplittableRandom random = new SplittableRandom(13);

            ThreadCosts costs = new ThreadCosts(donorPids);
            try (EngineLoad load = new EngineLoad(engine, DEPTH, 1)) {
                for (int round = 0; round < 2; round++) {  // round 0 warms up (JIT), round 1 is measured
                    long ops = round == 0 ? WARMUP_OPS : MEASURED_OPS;
                    load.measure(round == 0 ? null : costs);
                    EngineLoad.Result w = load.write(randomPages(random, pages, ops), filler, n -> { });
                    EngineLoad.Result r = load.read(randomPages(random, pages, ops), any, n -> { });
                    assertThat(w.failedPages() + r.failedPages()).isZero();
                }
            }
            return costs.totals();
        }
    }

    /** Bytes per measured request allocated by the threads of {@code group}. */
    private static double perRequest(ThreadCosts.Totals t, String group) {
        return t.groups().stream().filter(g -> g.name().equals(group))
                .mapToLong(ThreadCosts.Group::allocatedBytes).sum() / (2.0 * MEASURED_OPS);
    }

    /** {@code ops} single pages drawn uniformly from {@code [0, pages)}. */
    private static EngineLoad.RunOrder randomPages(SplittableRandom random, long pages, long ops) {
        long[] left = {ops};
        return () -> left[0]-- > 0 ? random.nextLong(pages) : -1;
    }

}
