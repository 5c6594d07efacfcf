package dev.valet.common.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One scrape's metric families, built from values read now: a collector adds each sample with its family's name,
 * help and labels ({@code "donor", "127.0.0.1:7070"}, ...); samples of one name join one family. Counter names are
 * given without {@code _total}, which the exposition adds. Off the I/O path: a scrape allocates freely.
 */
public final class MetricFamilies {
    private final Map<String, CounterSnapshot.Builder> counters = new LinkedHashMap<>();
    private final Map<String, GaugeSnapshot.Builder> gauges = new LinkedHashMap<>();
    private final Map<String, HistogramSnapshot.Builder> histograms = new LinkedHashMap<>();
    private final List<Supplier<MetricSnapshot>> order = new ArrayList<>();

    /** A monotonic count, e.g. {@code valet_client_pages_written} (exported as {@code ..._total}). */
    public MetricFamilies counter(String name, String help, double value, String... labels) {
        family(counters, name, help, CounterSnapshot::builder)
                .dataPoint(CounterDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build());
        return this;
    }

    /** A value that goes up and down, e.g. {@code valet_donor_lent_bytes}. */
    public MetricFamilies gauge(String name, String help, double value, String... labels) {
        family(gauges, name, help, GaugeSnapshot::builder)
                .dataPoint(GaugeDataPointSnapshot.builder().value(value).labels(Labels.of(labels)).build());
        return this;
    }

    /** The buckets and sum of {@code latency}, e.g. {@code valet_client_request_duration_seconds}. */
    public MetricFamilies histogram(String name, String help, LatencyHistogram latency, String... labels) {
        family(histograms, name, help, HistogramSnapshot::builder).dataPoint(HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(LatencyHistogram.upperBoundsSeconds(),
                        latency.bucketCounts()))
                .sum(latency.sumSeconds())
                .labels(Labels.of(labels))
                .build());
        return this;
    }

    /** The family {@code name} of one type, begun (with its help, in {@link #snapshots}' order) by its first sample. */
    private <B extends MetricSnapshot.Builder<B>> B family(Map<String, B> families, String name, String help,
                                                            Supplier<B> builder) {
        return families.computeIfAbsent(name, n -> {
            B b = builder.get().name(n).help(help);
            order.add(b::build);
            return b;
        });
    }

    /** Every family added, in the order first added. */
    public MetricSnapshots snapshots() {
        List<MetricSnapshot> out = new ArrayList<>(order.size());
        for (Supplier<MetricSnapshot> family : order) {
            out.add(family.get());
        }
        return new MetricSnapshots(out);
    }
}
