/**
 * What the client daemon shows operators: its Prometheus families ({@code valet_client_...}), read at scrape time
 * from the engine, the transport's round trips, the kernel channel and the host tier.
 */
package dev.valet.client.metrics;
