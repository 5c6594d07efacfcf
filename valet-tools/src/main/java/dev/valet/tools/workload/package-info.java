/**
 * Workloads that drive the engine ({@code valet demo}, {@code valet bench}, the allocation test):
 * {@link dev.valet.tools.workload.EngineLoad}, runs of pages in a bounded window, with latencies; and
 * {@link dev.valet.tools.workload.ThreadCosts}, what a workload costs the client's threads and the donors.
 */
package dev.valet.tools.workload;
