package dev.valet.client.dashboard;

import java.util.Locale;

/**
 * Why a donor cannot be reached, said the way an operator reads it: {@code connection refused (no donor listening
 * there)} rather than netty's {@code finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:7071}.
 * For {@code valet status} and the dashboards.
 */
public final class OneLineReason {
    private OneLineReason() {
    }

    /** {@code problem} (a message, possibly with the socket layer's text) shortened to what it means. */
    public static String of(String problem) {
        if (problem == null) {
            return null;
        }
        String m = problem.toLowerCase(Locale.ROOT);
        if (m.contains("connection refused")) {
            return "connection refused (no donor listening there)";
        }
        if (m.contains("no route to host")) {
            return "no route to host";
        }
        if (m.contains("network is unreachable")) {
            return "network unreachable";
        }
        if (m.contains("unknownhost") || m.contains("unknown host") || m.contains("name or service not known")) {
            return "unknown host";
        }
        if (m.contains("connection reset")) {
            return "connection reset by the donor";
        }
        int newline = problem.indexOf('\n');
        String line = newline < 0 ? problem : problem.substring(0, newline);
        // Whatever else the socket layer said, without its function names and the address again.
        return line.replaceAll("finishConnect\\(\\.\\.\\) failed(?: with error\\(-?\\d+\\))?: ", "")
                .replaceAll(": /[0-9a-fA-F.:%\\[\\]]+$", "");
    }
}
