package dev.valet.tools.bench;

import dev.valet.common.net.NettyTransport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The benchmark's JSON report ({@code valet bench --json}): how it was run, on what machine, and every result.
 * Field names are the record components' names.
 */
public record BenchReport(String command, String startedAt, Machine machine, Config config,
                          List<BenchResults.Prefill> prefill, List<BenchResults.CaseResult> cases,
                          List<BenchResults.CaseResult> reference, List<BenchResults.Ratio> ratios, boolean clean) {
    /** What the benchmark ran on. */
    public record Machine(int cores, String cpu, String javaVersion, String javaVm, String os, String arch,
                          String nettyTransport, String network) {
        /** This machine, with client and donors on loopback. */
        public static Machine probe() {
            return new Machine(Runtime.getRuntime().availableProcessors(), cpuModel(),
                    System.getProperty("java.version"),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"),
                    System.getProperty("os.name") + " " + System.getProperty("os.version"),
                    System.getProperty("os.arch"), NettyTransport.select().toString(),
                    "loopback TCP (127.0.0.1); client and donors on the same machine");
        }

        private static String cpuModel() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("model name")) {
                        return line.substring(line.indexOf(':') + 1).strip();
                    }
                }
            } catch (IOException | RuntimeException e) {
                // Not Linux, or not readable: the model is a nicety.
            }
            return "unknown";
        }
    }

    /** The benchmark's settings, as given on the command line. */
    public record Config(int donors, String donorMemory, String span, String slabSize, List<String> patterns,
                         List<String> operations, List<Integer> depths, List<Integer> replicas, long opsPerCase,
                         double secondsPerCase, long warmupOps, long seed, int pageBytes, int runPages) {
    }

    /** The report of {@code results}, measured by {@code command} from {@code startedAt}. */
    public static BenchReport of(String command, String startedAt, Config config, BenchResults results) {
        return new BenchReport(command, startedAt, Machine.probe(), config, results.prefills(), results.cases(),
                results.reference(), results.ratios(), results.clean());
    }
}
