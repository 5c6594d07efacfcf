package dev.valet.tools.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark's results as text: the engine cases, the bare reference, where the client's time and allocations
 * went per thread group, the engine-over-reference ratios, and (with {@code --encryption off,aes-256-gcm}) each
 * encrypted case against the same case in clear.
 */
public final class BenchTable {
    private static final String ROW = "%-8s %-6s %6s %9s %12s %9s %9s %9s %7s %9s %10s %10s%n";

    private BenchTable() {
    }

    /** Prints {@code results} under {@code title} (what was measured where) and flushes. */
    public static void print(PrintWriter out, String title, BenchResults results) {
        out.printf("%n%s%n", title);
        out.printf(ROW, "pattern", "op", "depth", "replicas", "ops/s", "p50_us", "p99_us", "p99.9_us", "errors",
                "alloc_B", "client_us", "donors_us");
        for (BenchResults.CaseResult c : results.cases()) {
            row(out, c, c.replicas() + encryption(c));
        }
        out.printf("(per operation: alloc_B heap bytes allocated by the bench JVM's threads; client_us CPU of the"
                + " bench JVM, GC and JIT included; donors_us CPU of the donor processes)%n");
        List<BenchResults.CaseResult> reference = results.reference();
        if (!reference.isEmpty()) {
            out.printf("%nreference: bare DonorConnection to one donor (no engine), depth 1, measured in"
                    + " alternating chunks with the engine case at depth 1 of the replicas shown%n");
            out.printf(ROW, "pattern", "op", "depth", "with", "ops/s", "p50_us", "p99_us", "p99.9_us", "errors",
                    "alloc_B", "client_us", "donors_us");
            for (BenchResults.CaseResult c : reference) {
                row(out, c, c.interleavedWith().replace("engine ", ""));
            }
        }
        threads(out, results);
        List<BenchResults.Ratio> ratios = results.ratios();
        if (!ratios.isEmpty()) {
            String r = "%-8s %-6s %9s %9s %9s %9s %9s%n";
            out.printf("%nengine vs bare transport, depth 1 (engine / bare: ops/s below 1 and latency above 1"
                    + " are the engine's cost)%n");
            out.printf(r, "pattern", "op", "replicas", "ops/s", "p50", "p99", "p99.9");
            for (BenchResults.Ratio x : ratios) {
                out.printf(r, x.pattern(), x.op(), x.replicas(), times(x.opsPerSecond()), times(x.p50()),
                        times(x.p99()), times(x.p999()));
            }
        }
        encryptionCost(out, results);
        out.flush();
    }

    /** {@code "+aes"} for a case with page encryption, else nothing. */
    private static String encryption(BenchResults.CaseResult c) {
        return c.target().startsWith("engine ") ? "+aes" : "";
    }

    /** Each encrypted case beside the same case without encryption, measured in the same run. */
    private static void encryptionCost(PrintWriter out, BenchResults results) {
        String r = "%-8s %-6s %6s %9s %10s %10s %7s %8s %8s %8s %8s%n";
        boolean header = false;
        for (BenchResults.CaseResult on : results.cases()) {
            if (encryption(on).isEmpty()) {
                continue;
            }
            for (BenchResults.CaseResult off : results.cases()) {
                if (!off.target().equals("engine") || !off.pattern().equals(on.pattern())
                        || !off.op().equals(on.op()) || off.depth() != on.depth() || off.replicas() != on.replicas()) {
                    continue;
                }
                if (!header) {
                    out.printf("%nencryption: %s vs off, same run (on / off ops/s below 1 is its cost)%n",
                            on.target().substring("engine ".length()));
                    out.printf(r, "pattern", "op", "depth", "replicas", "ops/s_off", "ops/s_on", "on/off",
                            "p50_off", "p50_on", "p99_off", "p99_on");
                    header = true;
                }
                out.printf(r, on.pattern(), on.op(), on.depth(), on.replicas(),
                        String.format(Locale.ROOT, "%.0f", off.opsPerSecond()),
                        String.format(Locale.ROOT, "%.0f", on.opsPerSecond()),
                        times(off.opsPerSecond() == 0 ? 0 : on.opsPerSecond() / off.opsPerSecond()),
                        off.p50Us(), on.p50Us(), off.p99Us(), on.p99Us());
            }
        }
    }

    private static void row(PrintWriter out, BenchResults.CaseResult c, String with) {
        out.printf(ROW, c.pattern(), c.op(), c.depth(), with, String.format(Locale.ROOT, "%.0f", c.opsPerSecond()),
                c.p50Us(), c.p99Us(), c.p999Us(), c.errors(), perOp(c.allocatedBytesPerOp()),
                perOp(c.costs().clientCpuUsPerOp()), perOp(c.costs().donorCpuUsPerOp()));
    }

    /** Per case, where the client's time and allocations went, by thread group. */
    private static void threads(PrintWriter out, BenchResults results) {
        out.printf("%nwhere the client's time and allocations go, per operation: thread group (name without its"
                + " numbers) us CPU / bytes allocated; voluntary context switches (hand-offs) per operation; request"
                + " frames per operation and per flush that reached the socket (TCP)%n");
        List<BenchResults.CaseResult> all = new ArrayList<>(results.cases());
        all.addAll(results.reference());
        for (BenchResults.CaseResult c : all) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-4s %-5s d%-3d %-11s",
                    c.pattern(), c.op(), c.depth(), c.target().equals("bare") ? "bare"
                            : "r" + c.replicas() + encryption(c)));
            for (BenchResults.GroupCost g : c.costs().threads()) {
                if (g.cpuUsPerOp() >= 0.05 || g.allocatedBytesPerOp() >= 1) {
                    line.append(String.format(Locale.ROOT, "  %s %.1f/%.0f", g.group(), g.cpuUsPerOp(),
                            g.allocatedBytesPerOp()));
                }
            }
            line.append(String.format(Locale.ROOT, "  | GC+JIT+VM %.1f us | switches client %.2f donors %.2f"
                            + " | frames/op %.2f, frames/flush %.2f",
                    c.costs().clientCpuUsPerOp() - c.costs().clientThreadCpuUsPerOp(),
                    c.costs().clientSwitchesPerOp(), c.costs().donorSwitchesPerOp(), c.costs().framesPerOp(),
                    c.costs().framesPerFlush()));
            out.println(line);
        }
    }

    private static String perOp(double x) {
        return String.format(Locale.ROOT, x < 100 ? "%.1f" : "%.0f", x);
    }

    private static String times(double x) {
        return String.format(Locale.ROOT, "%.2fx", x);
    }
}
