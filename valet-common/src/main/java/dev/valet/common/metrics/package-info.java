/**
 * What the daemons show operators: the Prometheus endpoint ({@code metrics.listen}, served by prometheus-metrics'
 * HTTP server), the families it exports, built at scrape time from the counters the daemons already keep, and
 * the latency histograms the transport records into without allocating.
 */
package dev.valet.common.metrics;
