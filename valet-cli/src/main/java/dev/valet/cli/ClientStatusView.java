package dev.valet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.valet.client.control.ControlClient;
import dev.valet.common.config.ByteSize;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * {@code valet status --client}: the running client daemon's own view, asked through its control socket and
 * printed as a summary line, one line per donor and one per slab (or the daemon's JSON with {@code --json}).
 */
final class ClientStatusView {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClientStatusView() {
    }

    /** Prints the view once, or every {@code watchSeconds} (up to {@code rounds} times when positive). */
    static int show(Path socket, PrintWriter out, boolean json, Integer watchSeconds, int rounds)
            throws IOException, InterruptedException {
        int status;
        int round = 0;
        while (true) {
            JsonNode doc = JSON.readTree(ControlClient.ask(socket, "status"));
            if (doc.has("error")) {
                throw new IOException(socket + ": the daemon says: " + doc.get("error").asText());
            }
            status = doc.get("engine").get("slabsDegraded").asInt() == 0
                    && doc.get("engine").get("slabsWithoutCopy").asInt() == 0 ? 0 : ErrorReporter.EXIT_FAILURE;
            if (json) {
                out.println(watchSeconds != null ? JSON.writeValueAsString(doc)
                        : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
            } else {
                if (watchSeconds != null) {
                    out.println("-- " + Instant.now().truncatedTo(ChronoUnit.SECONDS));
                }
                table(doc, out);
            }
            out.flush();
            round++;
            if (watchSeconds == null || (rounds > 0 && round >= rounds)) {
                return status;
            }
            Thread.sleep(watchSeconds * 1000L);
        }
    }

    private static void table(JsonNode doc, PrintWriter out) {
        JsonNode view = doc.get("view");
        JsonNode e = doc.get("engine");
        out.printf("%s: %d/%d donors live, %d slabs mapped, %d degraded, %d without a copy (%d copies each);"
                        + " repair queue %d; re-replicated %d slabs; held requests %d (failed %d)%n",
                view.get("title").asText(), e.get("liveDonors").asInt(), e.get("donors").asInt(),
                e.get("slabsMapped").asInt(), e.get("slabsDegraded").asInt(), e.get("slabsWithoutCopy").asInt(),
                doc.get("numReplica").asInt(), doc.get("repairQueue").asInt(), e.get("slabsRepaired").asLong(),
                e.get("heldRequests").asLong(), e.get("heldFailed").asLong());
        out.printf("%-24s %-10s %8s %8s %8s %8s  %s%n", "DONOR", "STATE", "MINE", "USED", "FREE", "RTT_us",
                "REASON");
        for (JsonNode d : view.get("donors")) {
            out.printf("%-24s %-10s %8s %8s %8s %8d  %s%n", d.get("donor").asText(), d.get("state").asText(),
                    size(d.get("mineBytes").asLong()), size(d.get("lentBytes").asLong()),
                    size(d.get("hostFreeBytes").asLong()), d.get("rttMicros").asLong(),
                    d.get("reason").isNull() ? "" : d.get("reason").asText());
        }
        out.printf("%-8s %-9s %s%n", "SLAB", "STATE", "COPIES (suspended in brackets)");
        for (JsonNode s : view.get("slabs")) {
            StringBuilder copies = new StringBuilder();
            s.get("copies").forEach(c -> copies.append(copies.length() == 0 ? "" : " ").append(c.asText()));
            s.get("suspended").forEach(c -> copies.append(" [").append(c.asText()).append(']'));
            out.printf("%-8d %-9s %s%n", s.get("id").asLong(), s.get("degraded").asBoolean() ? "degraded" : "ok",
                    copies);
        }
    }

    private static String size(long bytes) {
        return ByteSize.ofBytes(bytes - bytes % (1 << 20)).toString();
    }
}
