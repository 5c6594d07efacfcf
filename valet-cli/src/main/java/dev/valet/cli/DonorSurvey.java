package dev.valet.cli;

import dev.valet.client.dashboard.OneLineReason;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.client.transport.DonorTransport;
import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.ErrorCode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * One round of asking every donor of portal.list how it is, as {@code valet status} and {@code valet dashboard}
 * do: connect (with this client's identity and secret), ping twice and keep the second round trip (the first pays
 * for connection set-up and a cold JIT: over 100 ms on loopback), ask for STATS and for each client's share
 * (CLIENT_SHARES), close.
 */
final class DonorSurvey {
    private DonorSurvey() {
    }

    /**
     * What one donor said, or why it could not be asked.
     *
     * @param donor        the address, as portal.list writes it
     * @param up           whether it answered
     * @param reason       why not, one line (null when up)
     * @param rttMicros    the warm round trip of a heartbeat, µs (0 when down)
     * @param otherClients client connections besides this survey's own
     * @param stats        its STATS (null when down)
     * @param shares       what each client identity holds there, largest first (null when down, or when the donor
     *                     is older than CLIENT_SHARES)
     */
    record Report(String donor, boolean up, String reason, long rttMicros, int otherClients, DonorStats stats,
                  ClientShares shares) {
    }

    /**
     * Asks every donor at once; the reports in portal.list's order. A handshake that times out (a busy host) is
     * tried once more with twice {@code connectTimeout} before the donor counts as down.
     */
    static List<Report> take(DonorTransport transport, List<DonorAddress> donors, String identity,
                             Duration connectTimeout) {
        List<CompletableFuture<DonorConnection>> futures = new ArrayList<>();
        for (DonorAddress a : donors) {
            futures.add(transport.connectPatiently(a, identity, connectTimeout, 2));
        }
        List<Report> reports = new ArrayList<>();
        for (int i = 0; i < donors.size(); i++) {
            String donor = donors.get(i).toString();
            try (DonorConnection c = futures.get(i).join()) {
                c.heartbeat().join();
                long rtt = c.heartbeat().join();
                DonorStats s = c.stats().join();
                ClientShares shares = c.clientShares().exceptionally(e -> {
                    if (DonorException.isRefusal(e, ErrorCode.UNSUPPORTED_OPCODE)) {
                        return null; // a donor from before CLIENT_SHARES: its shares are not known
                    }
                    throw e instanceof CompletionException ce ? ce : new CompletionException(e);
                }).join();
                // The donor counts this survey's connection among its clients.
                reports.add(new Report(donor, true, null, rtt / 1000, Math.max(0, s.clientCount() - 1), s, shares));
            } catch (CompletionException e) {
                reports.add(new Report(donor, false, reason(e), 0, 0, null, null));
            }
        }
        return reports;
    }

    /** Why a donor could not be asked, in one line without exception class names or the donor's address. */
    static String reason(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        Throwable socket = t instanceof DonorUnavailableException ? t.getCause() : null;
        if (socket != null) {
            String said = OneLineReason.of(socket.getMessage() == null ? socket.toString() : socket.getMessage());
            if (!said.equals(socket.getMessage())) {
                return said;
            }
        }
        String message = String.valueOf(t.getMessage());
        int colon = message.indexOf(": ");
        // Our exceptions start with the donor's address, which the line shows already.
        if (colon > 0 && message.substring(0, colon).matches("\\[?[0-9A-Za-z.:%\\-]+]?:\\d+")) {
            message = message.substring(colon + 2);
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
