package dev.valet.common.portal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PortalListTest {

    @TempDir
    Path directory;

    private static List<DonorAddress> parse(String text) {
        return PortalList.parse("portal.list", text.lines().toList());
    }

    private static void assertFails(String text, int line, String problem) {
        assertThatThrownBy(() -> parse(text))
                .isInstanceOfSatisfying(PortalListException.class, e -> {
                    assertThat(e.source()).isEqualTo("portal.list");
                    assertThat(e.line()).isEqualTo(line);
                    assertThat(e.problem()).isEqualTo(problem);
                })
                .hasMessage("portal.list:" + line + ": " + problem);
    }

    @Test
    void readsTheResearchSeedFormat() {
        assertThat(parse("""
                3
                10.0.0.1:7070
                10.0.0.2:7070
                10.0.0.3:7071
                """)).containsExactly(
                        new DonorAddress("10.0.0.1", 7070),
                        new DonorAddress("10.0.0.2", 7070),
                        new DonorAddress("10.0.0.3", 7071));
    }

    @Test
    void skipsCommentsBlankLinesAndSurroundingWhitespace() {
        assertThat(parse("""
                # donors for rack 7

                   2   # two of them
                \t10.0.7.21:7070\t
                # the IPv6-only box:
                [fd00::7:22]:7070 # trailing comment
                """)).containsExactly(DonorAddress.parse("10.0.7.21:7070"), DonorAddress.parse("[fd00::7:22]:7070"));
    }

    @Test
    void acceptsHostNamesAndIpv6InFileOrder() {
        assertThat(parse("""
                3
                donor-b.example.com:7070
                [::1]:7071
                donor-a:7072
                """)).extracting(DonorAddress::toString)
                .containsExactly("donor-b.example.com:7070", "[::1]:7071", "donor-a:7072");
    }

    @Test
    void returnsAnUnmodifiableList() {
        List<DonorAddress> donors = parse("1\na:1\n");

        assertThatThrownBy(() -> donors.add(DonorAddress.parse("b:2")))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void ignoresAByteOrderMark() {
        assertThat(parse("\uFEFF1\na:1\n")).containsExactly(DonorAddress.parse("a:1"));
    }

    @Test
    void countMismatchNamesBothNumbersAtTheCountLine() {
        assertFails("""
                # header
                3
                127.0.0.1:7070
                127.0.0.1:7071
                """, 2, "donor count says 3 but 2 donors are listed (make the count match the donor lines)");
        assertFails("1\na:1\nb:2\n", 1,
                "donor count says 1 but 2 donors are listed (make the count match the donor lines)");
        assertFails("2\n", 1, "donor count says 2 but 0 donors are listed (make the count match the donor lines)");
        assertFails("2\na:1\n", 1, "donor count says 2 but 1 donor is listed (make the count match the donor lines)");
    }

    @Test
    void badPortNamesTheLineAndTheRange() {
        assertFails("2\na:7070\n\na:70x0\n", 4, "bad port '70x0' in 'a:70x0' (expected 1-65535)");
    }

    @Test
    void badAddressGivesTheAddressOwnMessage() {
        assertFails("1\nfd00::1:7070\n", 2, "IPv6 address must be in brackets, like '[::1]:7070', in 'fd00::1:7070'");
        assertFails("1\ndonor\n", 2, "missing ':port' in 'donor' (expected host:port, 1.2.3.4:port or [IPv6]:port)");
        assertFails("1\n10.0.0.1:7070#x\n", 2, "bad port '7070#x' in '10.0.0.1:7070#x' (expected 1-65535)");
    }

    @Test
    void twoAddressesOnOneLineAreRefused() {
        assertFails("2\na:1 b:2\n", 2, "expected one host:port per line, got 'a:1 b:2'");
    }

    @Test
    void duplicateNamesTheLineOfTheFirstOccurrence() {
        assertFails("""
                3
                127.0.0.1:7070
                127.0.0.1:7071
                127.0.0.1:7070
                """, 4, "duplicate donor 127.0.0.1:7070 (first listed on line 2)");
    }

    @Test
    void duplicateWrittenDifferentlyShowsTheCanonicalForm() {
        assertFails("2\n[::1]:7070\n[0:0:0:0:0:0:0:1]:7070\n", 3,
                "duplicate donor '[0:0:0:0:0:0:0:1]:7070' (same as [::1]:7070, first listed on line 2)");
        assertFails("2\nDonor:7070\ndonor:7070\n", 3, "duplicate donor donor:7070 (first listed on line 2)");
    }

    @Test
    void sameHostOnAnotherPortIsNotADuplicate() {
        assertThat(parse("2\na:1\na:2\n")).hasSize(2);
    }

    @Test
    void emptyListHasNoCountLine() {
        String problem = "empty portal list (expected the number of donors on the first line, then one host:port"
                + " per line)";
        assertFails("", 1, problem);
        assertFails("# only a comment\n\n   \n", 1, problem);
    }

    @Test
    void countMustBeAPositiveWholeNumber() {
        String expected = " (expected a positive whole number: how many donors are listed below it)";
        assertFails("three\na:1\n", 1, "bad donor count 'three'" + expected);
        assertFails("-1\n", 1, "bad donor count '-1'" + expected);
        assertFails("1.5\n", 1, "bad donor count '1.5'" + expected);
        assertFails("0\n", 1, "bad donor count 0" + expected);
        assertFails("99999999999\n", 1, "bad donor count 99999999999" + expected);
    }

    @Test
    void missingCountIsExplained() {
        assertFails("\n10.0.0.1:7070\n10.0.0.2:7070\n", 2, "missing donor count: got '10.0.0.1:7070' where the"
                + " number of donors should be (expected the number of donors on the first line, then one host:port"
                + " per line)");
    }

    @Test
    void readsAFile() throws IOException {
        Path file = directory.resolve("portal.list");
        Files.writeString(file, "2\n127.0.0.1:7070\n[::1]:7070\n");

        assertThat(PortalList.parse(file)).extracting(DonorAddress::toString)
                .containsExactly("127.0.0.1:7070", "[::1]:7070");
    }

    @Test
    void errorsInAFileNameTheFile() throws IOException {
        Path file = directory.resolve("rack7.list");
        Files.writeString(file, "1\nrack7:70x0\n");

        assertThatThrownBy(() -> PortalList.parse(file))
                .isInstanceOf(PortalListException.class)
                .hasMessage(file + ":2: bad port '70x0' in 'rack7:70x0' (expected 1-65535)");
    }

    @Test
    void missingFileIsNamed() {
        Path file = directory.resolve("nope.list");

        assertThatThrownBy(() -> PortalList.parse(file))
                .isInstanceOfSatisfying(PortalListException.class, e -> assertThat(e.line()).isZero())
                .hasMessage(file + ": no such file (expected a portal list: the number of donors on the first"
                        + " line, then one host:port per line)");
    }

    @Test
    void directoryIsRefused() {
        assertThatThrownBy(() -> PortalList.parse(directory))
                .isInstanceOf(PortalListException.class)
                .hasMessageStartingWith(directory + ": is a directory");
    }

    @Test
    void nonUtf8FileIsRefused() throws IOException {
        Path file = directory.resolve("latin1.list");
        Files.write(file, "1\nd\u00f6nor:1\n".getBytes(StandardCharsets.ISO_8859_1));

        assertThatThrownBy(() -> PortalList.parse(file))
                .isInstanceOf(PortalListException.class)
                .hasMessage(file + ": not UTF-8 text (a portal list is a plain text file)");
    }
}
