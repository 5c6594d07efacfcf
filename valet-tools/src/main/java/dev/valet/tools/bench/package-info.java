/**
 * The benchmark behind {@code valet bench} ({@code docs/benchmarks.md}): {@link dev.valet.tools.bench.EngineBench}
 * measures 4 KiB single-page latency, throughput and costs of the engine for a {@link dev.valet.tools.bench.BenchPlan},
 * beside a bare-transport floor; {@link dev.valet.tools.bench.BenchResults} holds what it found,
 * {@link dev.valet.tools.bench.BenchTable} prints it and {@link dev.valet.tools.bench.BenchReport} is its JSON form.
 * The command only parses options, starts the donors and prints.
 */
package dev.valet.tools.bench;
