package dev.valet.cli;

import dev.valet.common.config.ClientConfig;
import picocli.CommandLine.Option;

/** {@code --metrics-listen}: where a client-side command serves its Prometheus endpoint (docs/operations.md). */
@ConfigKeysOf(ClientConfig.class)
final class MetricsOption {
    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (valet client: and the dashboard"
                    + " at /), read-only; a loopback address unless metrics.allowRemote is set; port 0 picks a"
                    + " free port (logged).")
    @ConfigKey(value = "metrics.listen", defaultText = "empty: off")
    String listen;
}
