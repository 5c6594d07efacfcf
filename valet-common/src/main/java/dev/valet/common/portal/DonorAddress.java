package dev.valet.common.portal;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;

/**
 * Where a donor daemon listens: a host (IPv4 literal, IPv6 literal or host name) and a TCP port.
 *
 * <p>The host is kept in canonical form so that two spellings of the same donor compare equal, which is what
 * lets {@link PortalList} reject duplicates: host names are lower-cased, IPv6 literals are compressed the
 * RFC 5952 way ({@code 0:0:0:0:0:0:0:1} becomes {@code ::1}) and are stored without brackets. IPv4 octets with
 * leading zeros are rejected rather than guessed at, because some resolvers read {@code 010} as octal.
 *
 * <p>The constructor validates as strictly as {@link #parse(String)}, so every {@code DonorAddress} in the
 * program is one that could have been written in a portal list.
 *
 * @param host canonical host: a dotted-quad IPv4 address, a compressed IPv6 address without brackets (with an
 *             optional {@code %zone}), or a lower-case host name
 * @param port TCP port, 1 to 65535 (0, "any free port", only in a listen address: {@link #parseListen})
 */
public record DonorAddress(String host, int port) {

    /** Longest host name DNS can carry, without the trailing dot. */
    private static final int MAX_HOST_NAME_LENGTH = 253;
    private static final int MAX_LABEL_LENGTH = 63;
    private static final String EXPECTED_FORM = "host:port, 1.2.3.4:port or [IPv6]:port";

    /**
     * @throws IllegalArgumentException if the host is not a valid IPv4 address, IPv6 address or host name, or
     *                                  the port is outside 1 to 65535
     */
    public DonorAddress {
        if (host == null) {
            throw new IllegalArgumentException("host must not be null");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("bad port " + port + " for host '" + host + "' (expected 0-65535)");
        }
        host = canonicalHost(host, host);
    }

    /**
     * Reads {@code host:port}, {@code 1.2.3.4:port} or {@code [IPv6]:port}; surrounding whitespace is ignored.
     * IPv6 addresses need brackets, because otherwise the port cannot be told apart from the last group.
     *
     * @throws IllegalArgumentException naming the text and what was expected, for example
     *                                  {@code bad port '70x0' in 'a:70x0' (expected 1-65535)}
     */
    public static DonorAddress parse(String text) {
        return parse(text, 1);
    }

    /**
     * Like {@link #parse} for an address to listen on, where port 0 is allowed and means "any free port" (the
     * bound port is then reported by the server).
     */
    public static DonorAddress parseListen(String text) {
        return parse(text, 0);
    }

    private static DonorAddress parse(String text, int minPort) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty donor address (expected " + EXPECTED_FORM + ")");
        }
        String address = text.strip();
        String host;
        String portText;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing ']' in '" + address + "' (expected [IPv6]:port)");
            }
            host = address.substring(1, close);
            String rest = address.substring(close + 1);
            if (!rest.startsWith(":")) {
                throw new IllegalArgumentException("missing ':port' after ']' in '" + address
                        + "' (expected [IPv6]:port)");
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("empty IPv6 address in brackets in '" + address
                        + "' (expected [IPv6]:port)");
            }
            if (!host.contains(":")) {
                throw new IllegalArgumentException("brackets are only for IPv6 addresses, in '" + address
                        + "' (write " + host + ":port)");
            }
            portText = rest.substring(1);
        } else {
            int colon = address.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing ':port' in '" + address + "' (expected "
                        + EXPECTED_FORM + ")");
            }
            if (address.indexOf(':', colon + 1) >= 0) {
                throw new IllegalArgumentException("IPv6 address must be in brackets, like '[::1]:7070', in '"
                        + address + "'");
            }
            host = address.substring(0, colon);
            portText = address.substring(colon + 1);
            if (host.isEmpty()) {
                throw new IllegalArgumentException("missing host in '" + address + "' (expected "
                        + EXPECTED_FORM + ")");
            }
        }
        return new DonorAddress(canonicalHost(host, address), parsePort(portText, address, minPort));
    }

    /**
     * A socket address for connecting or binding. A host name is resolved now, by the JVM's resolver, so call
     * this when the address is about to be used rather than when the configuration is read.
     */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** The canonical text, {@code host:port} or {@code [IPv6]:port}, which {@link #parse} reads back. */
    @Override
    public String toString() {
        return isIpv6() ? "[" + host + "]:" + port : host + ":" + port;
    }

    /**
     * Whether this address is on this host's loopback: {@code 127.0.0.0/8}, {@code ::1} or {@code localhost}.
     * Decided from the text alone (no resolver), so a host name other than {@code localhost} is never loopback.
     */
    public boolean isLoopback() {
        return host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
    }

    private boolean isIpv6() {
        return host.indexOf(':') >= 0;
    }

    private static int parsePort(String portText, String address, int minPort) {
        String range = minPort + "-65535";
        if (portText.isEmpty()) {
            throw new IllegalArgumentException("missing port in '" + address + "' (expected " + range + ")");
        }
        boolean digitsOnly = portText.chars().allMatch(c -> c >= '0' && c <= '9');
        int port = digitsOnly && portText.length() <= 5 ? Integer.parseInt(portText) : -1;
        if (port < minPort || port > 65535) {
            throw new IllegalArgumentException("bad port '" + portText + "' in '" + address
                    + "' (expected " + range + ")");
        }
        return port;
    }

    /** Validates {@code host} and returns its canonical spelling; {@code context} is quoted in errors. */
    private static String canonicalHost(String host, String context) {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host in '" + context + "'");
        }
        if (host.indexOf(':') >= 0) {
            return Ipv6.canonical(host, context);
        }
        if (host.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.')) {
            return checkIpv4(host, context);
        }
        return checkHostName(host, context);
    }

    private static String checkIpv4(String host, String context) {
        String[] octets = host.split("\\.", -1);
        boolean valid = octets.length == 4;
        for (int i = 0; valid && i < octets.length; i++) {
            String octet = octets[i];
            valid = !octet.isEmpty() && octet.length() <= 3 && (octet.length() == 1 || octet.charAt(0) != '0')
                    && Integer.parseInt(octet) <= 255;
        }
        if (!valid) {
            throw new IllegalArgumentException("bad IPv4 address '" + host + "' in '" + context
                    + "' (expected four numbers 0-255 without leading zeros, like 192.168.1.10)");
        }
        return host;
    }

    private static String checkHostName(String host, String context) {
        if (host.length() > MAX_HOST_NAME_LENGTH) {
            throw new IllegalArgumentException("host name in '" + context + "' is " + host.length()
                    + " characters long (at most " + MAX_HOST_NAME_LENGTH + ")");
        }
        for (String label : host.split("\\.", -1)) {
            String problem = labelProblem(label);
            if (problem != null) {
                throw new IllegalArgumentException("bad host name '" + host + "' in '" + context + "': " + problem
                        + " (expected letters, digits, '-' and '_' in dot-separated parts)");
            }
        }
        return host.toLowerCase(Locale.ROOT);
    }

    private static String labelProblem(String label) {
        if (label.isEmpty()) {
            return "empty part between dots";
        }
        if (label.length() > MAX_LABEL_LENGTH) {
            return "part '" + label + "' is longer than " + MAX_LABEL_LENGTH + " characters";
        }
        if (label.startsWith("-") || label.endsWith("-")) {
            return "part '" + label + "' starts or ends with '-'";
        }
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_';
            if (!allowed) {
                return "character '" + c + "' is not allowed";
            }
        }
        return null;
    }

    /** IPv6 literal validation and RFC 5952 formatting, without touching the resolver. */
    private static final class Ipv6 {
        private static final int GROUPS = 8;

        static String canonical(String literal, String context) {
            int percent = literal.indexOf('%');
            String address = percent < 0 ? literal : literal.substring(0, percent);
            String zone = percent < 0 ? null : literal.substring(percent + 1);
            int[] groups = parseGroups(address);
            if (groups == null) {
                throw new IllegalArgumentException("bad IPv6 address '" + literal + "' in '" + context
                        + "' (expected eight groups of hex digits, '::' at most once, like [fd00::1]:7070)");
            }
            if (zone != null && (zone.isEmpty() || !zone.chars().allMatch(Ipv6::isZoneChar))) {
                throw new IllegalArgumentException("bad IPv6 zone '" + zone + "' in '" + context
                        + "' (expected an interface name like %eth0)");
            }
            return format(groups) + (zone == null ? "" : "%" + zone);
        }

        private static boolean isZoneChar(int c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.';
        }

        /** The eight 16-bit groups, or null if {@code address} is not an IPv6 literal. */
        private static int[] parseGroups(String address) {
            int gap = address.indexOf("::");
            if (gap >= 0 && address.indexOf("::", gap + 1) >= 0) {
                return null;
            }
            int[] head = gap < 0 ? parsePart(address, true) : parsePart(address.substring(0, gap), false);
            int[] tail = gap < 0 ? new int[0] : parsePart(address.substring(gap + 2), true);
            if (head == null || tail == null) {
                return null;
            }
            int given = head.length + tail.length;
            if (gap < 0 ? given != GROUPS : given > GROUPS - 1) {
                return null;
            }
            int[] groups = new int[GROUPS];
            System.arraycopy(head, 0, groups, 0, head.length);
            System.arraycopy(tail, 0, groups, GROUPS - tail.length, tail.length);
            return groups;
        }

        /**
         * Colon-separated hex groups, or null if malformed. When {@code endsAddress}, the last group may be a
         * dotted IPv4 address standing for two groups ({@code ::ffff:192.0.2.1}).
         */
        private static int[] parsePart(String part, boolean endsAddress) {
            if (part.isEmpty()) {
                return new int[0];
            }
            String[] texts = part.split(":", -1);
            int[] groups = new int[texts.length + 1];
            int count = 0;
            for (int i = 0; i < texts.length; i++) {
                String text = texts[i];
                if (endsAddress && i == texts.length - 1 && text.indexOf('.') >= 0) {
                    int[] ipv4 = parseEmbeddedIpv4(text);
                    if (ipv4 == null) {
                        return null;
                    }
                    groups[count++] = ipv4[0];
                    groups[count++] = ipv4[1];
                } else if (text.isEmpty() || text.length() > 4 || !text.chars().allMatch(Ipv6::isHexDigit)) {
                    return null;
                } else {
                    groups[count++] = Integer.parseInt(text, 16);
                }
            }
            return Arrays.copyOf(groups, count);
        }

        private static int[] parseEmbeddedIpv4(String text) {
            try {
                checkIpv4(text, text);
            } catch (IllegalArgumentException e) {
                return null;
            }
            String[] octets = text.split("\\.");
            int[] value = new int[4];
            for (int i = 0; i < 4; i++) {
                value[i] = Integer.parseInt(octets[i]);
            }
            return new int[] {value[0] << 8 | value[1], value[2] << 8 | value[3]};
        }

        private static boolean isHexDigit(int c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }

        /** RFC 5952: lower-case hex, no leading zeros, the longest run of two or more zero groups as "::". */
        private static String format(int[] groups) {
            int bestStart = -1;
            int bestLength = 1;
            for (int i = 0; i < GROUPS; i++) {
                int length = 0;
                while (i + length < GROUPS && groups[i + length] == 0) {
                    length++;
                }
                if (length > bestLength) {
                    bestStart = i;
                    bestLength = length;
                }
            }
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < GROUPS; i++) {
                if (i == bestStart) {
                    text.append("::");
                    i += bestLength - 1;
                    continue;
                }
                if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                    text.append(':');
                }
                text.append(Integer.toHexString(groups[i]));
            }
            return text.toString();
        }
    }
}
