package dev.valet.tools.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.valet.tools.workload.ThreadCosts;

import java.util.ArrayList;
import java.util.List;

/**
 * What a benchmark measured: the engine cases, the bare reference cases measured beside them, their ratios, and the
 * prefills. The records are also the JSON report's ({@link BenchReport}); their names are its field names.
 */
public final class BenchResults {
    /** The progress bar's drawing thread (me.tongfei.progressbar): display, not I/O, so left out of B/op. */
    public static final String PROGRESS_THREAD = "ProgressBar";

    private final List<CaseResult> cases = new ArrayList<>();
    private final List<CaseResult> reference = new ArrayList<>();
    private final List<Ratio> ratios = new ArrayList<>();
    private final List<Prefill> prefills = new ArrayList<>();

    /**
     * One measured case. Latencies in microseconds; {@code errors} includes the warm-up's. {@code interleavedWith}:
     * the case measured in alternating chunks with this one (engine depth 1 with bare, and back), or null.
     */
    public record CaseResult(String target, String pattern, String op, int depth, int replicas,
                             String interleavedWith, long ops, long errors, double seconds, double opsPerSecond,
                             long p50Us, long p99Us, long p999Us, long maxUs, double meanUs, Costs costs) {
        @JsonProperty("allocated_bytes_per_op")
        public double allocatedBytesPerOp() {
            return costs.allocatedBytesPerOp();
        }
    }

    /**
     * What a case's measured operations cost, per operation (issue 13's instruments, {@link ThreadCosts}): heap
     * bytes allocated by the bench JVM's threads (all but the progress bar's), the JVM's CPU (threads, GC and JIT),
     * the donor processes' CPU (/proc, 10 ms resolution), voluntary context switches of each side (a thread going
     * to sleep for want of work: the hand-offs), and per thread group its allocations and CPU. Threads that started
     * and ended within a case are not counted.
     */
    public record Costs(@JsonProperty("allocated_bytes_per_op") double allocatedBytesPerOp,
                        @JsonProperty("client_cpu_us_per_op") double clientCpuUsPerOp,
                        @JsonProperty("client_thread_cpu_us_per_op") double clientThreadCpuUsPerOp,
                        @JsonProperty("donor_cpu_us_per_op") double donorCpuUsPerOp,
                        @JsonProperty("client_switches_per_op") double clientSwitchesPerOp,
                        @JsonProperty("donor_switches_per_op") double donorSwitchesPerOp,
                        @JsonProperty("frames_per_op") double framesPerOp,
                        @JsonProperty("frames_per_flush") double framesPerFlush,
                        @JsonProperty("threads") List<GroupCost> threads) {
        static Costs of(ThreadCosts.Totals t, long ops) {
            double n = Math.max(ops, 1);
            long drawn = t.groups().stream().filter(g -> g.name().equals(PROGRESS_THREAD))
                    .mapToLong(ThreadCosts.Group::allocatedBytes).sum();
            return new Costs(round((t.allocatedBytes() - drawn) / n), round(t.processCpuNanos() / 1e3 / n),
                    round(t.threadCpuNanos() / 1e3 / n), round(t.otherCpuNanos() / 1e3 / n),
                    round(t.switches() / n), round(t.otherSwitches() / n), round(t.frames() / n),
                    round(t.flushes() == 0 ? 0 : (double) t.frames() / t.flushes()),
                    t.groups().stream().filter(g -> g.cpuNanos() > 0 || g.allocatedBytes() > 0)
                            .map(g -> new GroupCost(g.name(), g.threads(), round(g.allocatedBytes() / n),
                                    round(g.cpuNanos() / 1e3 / n))).toList());
        }

        private static double round(double x) {
            return Math.round(x * 100) / 100.0;
        }
    }

    /** One thread group's share of a case (name without trailing numbers), per operation. */
    public record GroupCost(@JsonProperty("group") String group, @JsonProperty("threads") int threads,
                            @JsonProperty("allocated_bytes_per_op") double allocatedBytesPerOp,
                            @JsonProperty("cpu_us_per_op") double cpuUsPerOp) {
    }

    /**
     * The whole-span write before an engine's (or the reference's) cases, and the errors of the warm-up round that
     * follows it (every case's warm-up once, so the JIT has compiled every path before the first measured case).
     */
    public record Prefill(String target, int replicas, long pages, long errors, double seconds, double pagesPerSecond,
                          long warmupRoundErrors) {
    }

    /** An engine case at depth 1 over the bare reference of the same pattern and operation. */
    public record Ratio(String pattern, String op, int replicas, double opsPerSecond, double p50, double p99,
                        double p999) {
        static Ratio of(CaseResult engine, CaseResult bare) {
            return new Ratio(engine.pattern(), engine.op(), engine.replicas(),
                    ratio(engine.opsPerSecond(), bare.opsPerSecond()), ratio(engine.p50Us(), bare.p50Us()),
                    ratio(engine.p99Us(), bare.p99Us()), ratio(engine.p999Us(), bare.p999Us()));
        }

        private static double ratio(double a, double b) {
            return b == 0 ? 0 : Math.round(a / b * 100) / 100.0;
        }
    }

    void addCase(CaseResult c) {
        cases.add(c);
    }

    void addReference(CaseResult c) {
        reference.add(c);
    }

    void addRatio(Ratio r) {
        ratios.add(r);
    }

    void addPrefill(Prefill p) {
        prefills.add(p);
    }

    /** The engine cases, in the order measured. */
    public List<CaseResult> cases() {
        return List.copyOf(cases);
    }

    /** The bare reference cases, each measured beside a depth-1 engine case. */
    public List<CaseResult> reference() {
        return List.copyOf(reference);
    }

    public List<Ratio> ratios() {
        return List.copyOf(ratios);
    }

    public List<Prefill> prefills() {
        return List.copyOf(prefills);
    }

    /** Whether nothing failed: no case, reference case, prefill or warm-up round had an error. */
    public boolean clean() {
        return cases.stream().allMatch(c -> c.errors() == 0) && reference.stream().allMatch(c -> c.errors() == 0)
                && prefills.stream().allMatch(p -> p.errors() == 0 && p.warmupRoundErrors() == 0);
    }
}
