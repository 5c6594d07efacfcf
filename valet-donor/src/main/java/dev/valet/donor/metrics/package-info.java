/** The donor's Prometheus families ({@code valet_donor_...}), read from its counters at each scrape. */
package dev.valet.donor.metrics;
