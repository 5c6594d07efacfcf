package dev.valet.common.portal;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code portal.list}, the file that tells a client which donors it may page to.
 *
 * <p>The format is the one the research prototype used, so existing lists keep working: the first line is the
 * number of donors, then one donor address per line.
 *
 * <pre>
 * # donors for rack 7
 * 2
 * 10.0.7.21:7070
 * [fd00::7:22]:7070   # the IPv6-only box
 * </pre>
 *
 * <p>Around that core, a {@code #} starts a comment when it begins a line or follows whitespace, blank lines are
 * skipped and surrounding whitespace is ignored. Addresses are read by {@link DonorAddress#parse}. The count is
 * kept, and checked, because a list truncated by a bad copy would otherwise quietly page to fewer donors.
 *
 * <p>Any problem throws {@link PortalListException} naming the file and line; nothing is returned from a list
 * with an error in it.
 */
public final class PortalList {

    private static final String FORMAT = "the number of donors on the first line, then one host:port per line";

    private PortalList() {
    }

    /**
     * Reads and checks a portal list file (UTF-8).
     *
     * @return the donors in file order, unmodifiable, never empty
     * @throws PortalListException if the file cannot be read or any line is wrong
     */
    public static List<DonorAddress> parse(Path file) {
        String source = file.toString();
        if (Files.isDirectory(file)) {
            throw new PortalListException(source, 0, "is a directory (expected a portal list file: " + FORMAT + ")");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new PortalListException(source, 0, "no such file (expected a portal list: " + FORMAT + ")", e);
        } catch (AccessDeniedException e) {
            throw new PortalListException(source, 0, "permission denied", e);
        } catch (MalformedInputException e) {
            throw new PortalListException(source, 0, "not UTF-8 text (a portal list is a plain text file)", e);
        } catch (IOException e) {
            throw new PortalListException(source, 0, "cannot read: " + e.getMessage(), e);
        }
        return parse(source, lines);
    }

    /**
     * Checks the lines of a portal list.
     *
     * @param sourceName what to call the list in error messages, normally its file name
     * @param lines      the lines, without line terminators
     * @return the donors in list order, unmodifiable, never empty
     * @throws PortalListException naming {@code sourceName}, the line and the problem
     */
    public static List<DonorAddress> parse(String sourceName, List<String> lines) {
        int countLine = 0;
        int count = 0;
        List<DonorAddress> donors = new ArrayList<>();
        Map<DonorAddress, Integer> firstLineOf = new HashMap<>();
        for (int index = 0; index < lines.size(); index++) {
            int lineNumber = index + 1;
            String content = withoutComment(index == 0 ? withoutByteOrderMark(lines.get(0)) : lines.get(index))
                    .strip();
            if (content.isEmpty()) {
                continue;
            }
            if (countLine == 0) {
                countLine = lineNumber;
                count = parseCount(sourceName, lineNumber, content);
                continue;
            }
            DonorAddress donor = parseDonor(sourceName, lineNumber, content);
            Integer firstLine = firstLineOf.putIfAbsent(donor, lineNumber);
            if (firstLine != null) {
                String problem = content.equals(donor.toString())
                        ? "duplicate donor " + donor + " (first listed on line " + firstLine + ")"
                        : "duplicate donor '" + content + "' (same as " + donor + ", first listed on line "
                                + firstLine + ")";
                throw new PortalListException(sourceName, lineNumber, problem);
            }
            donors.add(donor);
        }
        if (countLine == 0) {
            throw new PortalListException(sourceName, 1, "empty portal list (expected " + FORMAT + ")");
        }
        if (donors.size() != count) {
            throw new PortalListException(sourceName, countLine, "donor count says " + count + " but "
                    + donors.size() + (donors.size() == 1 ? " donor is" : " donors are")
                    + " listed (make the count match the donor lines)");
        }
        return List.copyOf(donors);
    }

    private static int parseCount(String sourceName, int lineNumber, String content) {
        if (!content.chars().allMatch(c -> c >= '0' && c <= '9')) {
            String problem = content.indexOf(':') >= 0
                    ? "missing donor count: got '" + content + "' where the number of donors should be (expected "
                            + FORMAT + ")"
                    : "bad donor count '" + content + "' (expected a positive whole number: how many donors"
                            + " are listed below it)";
            throw new PortalListException(sourceName, lineNumber, problem);
        }
        long count = content.length() > 10 ? Long.MAX_VALUE : Long.parseLong(content);
        if (count == 0 || count > Integer.MAX_VALUE) {
            throw new PortalListException(sourceName, lineNumber, "bad donor count " + content
                    + " (expected a positive whole number: how many donors are listed below it)");
        }
        return (int) count;
    }

    private static DonorAddress parseDonor(String sourceName, int lineNumber, String content) {
        if (content.chars().anyMatch(Character::isWhitespace)) {
            throw new PortalListException(sourceName, lineNumber,
                    "expected one host:port per line, got '" + content + "'");
        }
        try {
            return DonorAddress.parse(content);
        } catch (IllegalArgumentException e) {
            throw new PortalListException(sourceName, lineNumber, e.getMessage(), e);
        }
    }

    /** The line up to a '#' that starts it or follows whitespace; a '#' inside a word is kept. */
    private static String withoutComment(String line) {
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    private static String withoutByteOrderMark(String line) {
        return line.startsWith("\uFEFF") ? line.substring(1) : line;
    }
}
