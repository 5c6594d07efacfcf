/** Workloads that drive the engine (the demo, the benchmark): runs of pages in a bounded window, with latencies. */
package dev.valet.client.workload;
