package dev.valet.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.client.transport.DonorTransport;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code valet status}: what every donor of portal.list reports. */
@Command(name = "status", mixinStandardHelpOptions = true,
        header = "Show each donor's memory, load and round trip, or the running client's own view (--client).",
        description = {
            "Ask every donor of portal.list for its STATS and print one line per donor: lend limit, used (lent),"
                    + " offered, host free memory (EWMA) and its gradient, slabs, clients (other than this"
                    + " command), page ops/s, round trip (of a second ping: the first pays for the connection),"
                    + " and its evictions: requested/completed/timed out/declined, and unused slabs it freed (see"
                    + " docs/operations.md). Under each donor, one line per client identity holding slabs there,"
                    + " largest first (at most 32; the donor's CLIENT_SHARES): its bytes and slabs.",
            "A donor that cannot be reached is shown as DOWN with a one-line reason. Exit status 1 if any is down"
                    + " (with --watch: in the last round), 2 for bad input.",
            "With --client, ask the running client daemon instead (through its control socket, root only): its"
                    + " donors as it sees them with its share of each, its slabs and where their copies are, degraded"
                    + " copies and its repair queue. Exit status 1 if it cannot be asked or a slab is degraded."})
final class StatusCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ClientConfigOptions client;

    @Option(names = "--json",
            description = "Print one JSON object instead of the table: {\"time\": ..., \"donors\": [{\"donor\","
                    + " \"up\", \"reason\", \"rttMicros\", \"otherClients\", \"stats\": {...}, \"shares\":"
                    + " {\"identityCount\", \"shares\": [{\"identity\", \"slabs\", \"bytes\"}]}}]}; with --watch"
                    + " one object a line.")
    boolean json;

    @Option(names = "--watch", paramLabel = "SECONDS", arity = "0..1", fallbackValue = "2",
            description = "Ask again every SECONDS (default 2 when given without a value) until Ctrl-C, each round"
                    + " headed by its UTC time.")
    Integer watchSeconds;

    @Option(names = "--client", paramLabel = "SOCKET", arity = "0..1", fallbackValue = "",
            description = "Ask the running valet client through its control socket (SOCKET, default control.socket"
                    + " of valet.yaml: /run/valet/client.sock) for its view instead of asking the donors.")
    String clientSocket;

    @Option(names = "--rounds", paramLabel = "N", hidden = true,
            description = "Test hook: with --watch, stop after N rounds.")
    int rounds;

    @Override
    public Integer call() throws Exception {
        if (watchSeconds != null && watchSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--watch: must be at least 1 second, got " + watchSeconds);
        }
        ClientConfig config = client.load();
        PrintWriter out = spec.commandLine().getOut();
        if (clientSocket != null) {
            Path socket = clientSocket.isEmpty() ? config.control().path() : Path.of(clientSocket);
            return ClientStatusView.show(socket, out, json, watchSeconds, rounds);
        }
        List<DonorAddress> donors = ClientConfigOptions.donors(config);
        int down;
        try (DonorTransport transport = Connections.transport(config)) {
            int round = 0;
            while (true) {
                List<DonorSurvey.Report> reports = DonorSurvey.take(transport, donors, config.identity(),
                        config.connectTimeout());
                down = (int) reports.stream().filter(r -> !r.up()).count();
                print(out, reports, watchSeconds != null);
                round++;
                if (watchSeconds == null || (rounds > 0 && round >= rounds)) {
                    break;
                }
                Thread.sleep(watchSeconds * 1000L);
            }
        }
        return down == 0 ? 0 : ErrorReporter.EXIT_FAILURE;
    }

    private void print(PrintWriter out, List<DonorSurvey.Report> reports, boolean watching)
            throws JsonProcessingException {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("time", now.toString());
            doc.put("donors", reports);
            out.println(watching ? JSON.writeValueAsString(doc) : JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(doc));
            out.flush();
            return;
        }
        if (watching) {
            out.println("-- " + now);
        }
        out.printf("%-24s %8s %8s %8s %8s %10s %6s %7s %10s %8s  %s%n", "DONOR", "LIMIT", "USED",
                "OFFERED", "FREE", "FREE/s", "SLABS", "CLIENTS", "PAGES/s", "RTT_us",
                "EVICT req/done/timeout/declined unused");
        for (DonorSurvey.Report r : reports) {
            if (!r.up()) {
                out.printf("%-24s DOWN: %s%n", r.donor(), r.reason());
                continue;
            }
            DonorStats s = r.stats();
            out.printf("%-24s %8s %8s %8s %8s %10s %6d %7d %10d %8d  %d/%d/%d/%d %d%n", r.donor(),
                    size(s.lendLimitBytes()), size(s.lentBytes()), size(s.offeredBytes()),
                    size(s.freeMemoryBytes()), signedSize(s.freeMemoryGradient()), s.slabCount(),
                    r.otherClients(), s.pageOpsPerSecond(), r.rttMicros(), s.evictionsRequested(),
                    s.evictionsCompleted(), s.evictionsTimedOut(), s.evictionsDeclined(), s.unusedSlabsReclaimed());
            printShares(out, r.shares());
        }
        out.flush();
    }

    /** Each client's share of one donor, indented under its line. */
    private static void printShares(PrintWriter out, ClientShares shares) {
        if (shares == null) {
            out.println("    client shares not reported (a donor from before CLIENT_SHARES)");
            return;
        }
        for (ClientShares.Share share : shares.shares()) {
            out.printf("    client %-32s %10s %6d slabs%n", share.identity(), ByteSize.ofBytes(share.bytes()),
                    share.slabs());
        }
        int unlisted = shares.identityCount() - shares.shares().size();
        if (unlisted > 0) {
            out.printf("    and %d more clients, none holding more%n", unlisted);
        }
    }

    private static String size(long bytes) {
        return ByteSize.ofBytes(bytes - bytes % (1 << 20)).toString();
    }

    private static String signedSize(long bytes) {
        return (bytes < 0 ? "-" : "+") + size(Math.abs(bytes));
    }
}
