package dev.valet.cli;

import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorTransport;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.DonorStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;

/** {@code valet status}: what every donor of portal.list reports. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {
            "Ask every donor of portal.list for its STATS and print one line per donor: lend limit, used (lent),"
                    + " offered, host free memory (EWMA) and its gradient, slabs, clients, page ops/s, round trip,"
                    + " and its evictions: requested/completed/timed out/declined, and unused slabs it freed (see"
                    + " docs/operations.md).",
            "A donor that cannot be reached is shown as DOWN with the reason. Exit status 1 if any is down."})
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ClientConfigOptions client;

    @Override
    public Integer call() {
        ClientConfig config = client.load();
        List<DonorAddress> donors = ClientConfigOptions.donors(config);
        int down = 0;
        try (DonorTransport transport = Connections.transport(config)) {
            List<CompletableFuture<DonorConnection>> futures = Connections.open(transport, donors,
                    config.identity());
            System.out.printf("%-24s %8s %8s %8s %8s %10s %6s %7s %10s %8s  %s%n", "DONOR", "LIMIT", "USED",
                    "OFFERED", "FREE", "FREE/s", "SLABS", "CLIENTS", "PAGES/s", "RTT_us",
                    "EVICT req/done/timeout/declined unused");
            for (int i = 0; i < donors.size(); i++) {
                try (DonorConnection c = futures.get(i).join()) {
                    long rtt = c.heartbeat().join();
                    DonorStats s = c.stats().join();
                    System.out.printf("%-24s %8s %8s %8s %8s %10s %6d %7d %10d %8d  %d/%d/%d/%d %d%n", donors.get(i),
                            size(s.lendLimitBytes()), size(s.lentBytes()), size(s.offeredBytes()),
                            size(s.freeMemoryBytes()), signedSize(s.freeMemoryGradient()), s.slabCount(),
                            s.clientCount(), s.pageOpsPerSecond(), rtt / 1000, s.evictionsRequested(),
                            s.evictionsCompleted(), s.evictionsTimedOut(), s.evictionsDeclined(),
                            s.unusedSlabsReclaimed());
                } catch (CompletionException e) {
                    down++;
                    System.out.printf("%-24s DOWN: %s%n", donors.get(i), e.getCause().getMessage());
                }
            }
        }
        return down == 0 ? 0 : ErrorReporter.EXIT_FAILURE;
    }

    private static String size(long bytes) {
        return ByteSize.ofBytes(bytes - bytes % (1 << 20)).toString();
    }

    private static String signedSize(long bytes) {
        return (bytes < 0 ? "-" : "+") + size(Math.abs(bytes));
    }
}
