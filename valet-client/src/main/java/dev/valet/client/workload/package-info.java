/**
 * Workloads that drive the engine (the demo, the benchmark): runs of pages in a bounded window, with latencies; and
 * {@link dev.valet.client.workload.ThreadCosts}, what a workload costs the client's threads and the donors.
 */
package dev.valet.client.workload;
