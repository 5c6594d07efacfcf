/**
 * The web dashboard: static HTML, JavaScript and CSS in the jar (no CDN), and one JSON document it polls
 * ({@code /api/state}): per donor memory lent, used and free with this client's share, where every slab's copies
 * live, throughput and latency, and recent events. Served read-only by the client daemon beside {@code /metrics},
 * and by {@code valet dashboard} for a cluster view from any machine.
 */
package dev.valet.client.dashboard;
