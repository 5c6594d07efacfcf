package dev.valet.common.portal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DonorAddressTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            127.0.0.1:7070                  | 127.0.0.1:7070
            0.0.0.0:1                       | 0.0.0.0:1
            255.255.255.255:65535           | 255.255.255.255:65535
            localhost:7070                  | localhost:7070
            Donor-7.Rack_2.example.COM:7070 | donor-7.rack_2.example.com:7070
            '  10.0.0.1:7070  '             | 10.0.0.1:7070
            10.0.0.1:07070                  | 10.0.0.1:7070
            [::1]:7070                      | [::1]:7070
            [0:0:0:0:0:0:0:1]:7070          | [::1]:7070
            [::]:7070                       | [::]:7070
            [FD00:0:0:0:0:0:0:7]:80         | [fd00::7]:80
            [2001:db8:0:0:1:0:0:1]:80       | [2001:db8::1:0:0:1]:80
            [2001:0db8:0000:0001:0:0:0:0]:1 | [2001:db8:0:1::]:1
            [1:0:2:3:4:5:6:7]:1             | [1:0:2:3:4:5:6:7]:1
            [fe80::1%eth0]:7070             | [fe80::1%eth0]:7070
            [::ffff:192.0.2.1]:7070         | [::ffff:c000:201]:7070
            """)
    void parsesAndPrintsCanonicalForm(String text, String canonical) {
        DonorAddress address = DonorAddress.parse(text);

        assertThat(address).hasToString(canonical);
        assertThat(DonorAddress.parse(canonical)).isEqualTo(address);
    }

    @Test
    void keepsHostAndPortApart() {
        assertThat(DonorAddress.parse("[fd00::7]:7071")).isEqualTo(new DonorAddress("fd00::7", 7071));
        assertThat(DonorAddress.parse("donor.example:80").host()).isEqualTo("donor.example");
        assertThat(DonorAddress.parse("donor.example:80").port()).isEqualTo(80);
    }

    @Test
    void differentSpellingsOfOneAddressAreEqual() {
        assertThat(DonorAddress.parse("[0:0::1]:7070")).isEqualTo(DonorAddress.parse("[::1]:7070"));
        assertThat(DonorAddress.parse("DONOR:7070")).isEqualTo(DonorAddress.parse("donor:7070"));
    }

    @ParameterizedTest(name = "[{index}] ''{0}''")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            a:70x0                | bad port '70x0' in 'a:70x0' (expected 1-65535)
            a:0                   | bad port '0' in 'a:0' (expected 1-65535)
            a:65536               | bad port '65536' in 'a:65536' (expected 1-65535)
            a:-1                  | bad port '-1' in 'a:-1' (expected 1-65535)
            a:99999999999         | bad port '99999999999' in 'a:99999999999' (expected 1-65535)
            a:                    | missing port in 'a:' (expected 1-65535)
            foo                   | missing ':port' in 'foo' (expected host:port, 1.2.3.4:port or [IPv6]:port)
            :7070                 | missing host in ':7070' (expected host:port
            ::1:7070              | IPv6 address must be in brackets, like '[::1]:7070', in '::1:7070'
            fd00::1               | IPv6 address must be in brackets
            [::1]                 | missing ':port' after ']' in '[::1]' (expected [IPv6]:port)
            [::1:7070             | missing ']' in '[::1:7070' (expected [IPv6]:port)
            []:7070               | empty IPv6 address in brackets in '[]:7070'
            [10.0.0.1]:7070       | brackets are only for IPv6 addresses, in '[10.0.0.1]:7070' (write 10.0.0.1:port)
            [1::2::3]:7070        | bad IPv6 address '1::2::3' in '[1::2::3]:7070' (expected eight groups of hex digits
            [1:2:3:4:5:6:7]:7070  | bad IPv6 address '1:2:3:4:5:6:7'
            [1:2:3:4:5:6:7:8:9]:1 | bad IPv6 address '1:2:3:4:5:6:7:8:9'
            [12345::1]:7070       | bad IPv6 address '12345::1'
            [::g]:7070            | bad IPv6 address '::g'
            [1.2.3.4::]:7070      | bad IPv6 address '1.2.3.4::'
            [fe80::1%]:7070       | bad IPv6 zone '' in '[fe80::1%]:7070' (expected an interface name like %eth0)
            1.2.3.400:7070        | bad IPv4 address '1.2.3.400' in '1.2.3.400:7070' (expected four numbers 0-255
            1.2.3:7070            | bad IPv4 address '1.2.3'
            010.0.0.1:7070        | bad IPv4 address '010.0.0.1'
            host name:7070        | bad host name 'host name' in 'host name:7070': character ' ' is not allowed
            -donor:7070           | bad host name '-donor' in '-donor:7070': part '-donor' starts or ends with '-'
            donor..lan:7070       | bad host name 'donor..lan' in 'donor..lan:7070': empty part between dots
            donor%1:7070          | character '%' is not allowed
            "   "                 | empty donor address (expected host:port, 1.2.3.4:port or [IPv6]:port)
            """)
    void rejectsBadAddressesSayingWhatWasExpected(String text, String message) {
        assertThatThrownBy(() -> DonorAddress.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void rejectsOverlongHostNames() {
        String label = "a".repeat(64);
        assertThatThrownBy(() -> DonorAddress.parse(label + ".lan:7070"))
                .hasMessageContaining("is longer than 63 characters");
        String name = ("a".repeat(60) + ".").repeat(5) + "lan";
        assertThatThrownBy(() -> DonorAddress.parse(name + ":7070"))
                .hasMessageContaining("characters long (at most 253)");
    }

    @Test
    void portZeroIsOnlyForListenAddresses() {
        assertThatThrownBy(() -> DonorAddress.parse("127.0.0.1:0"))
                .hasMessage("bad port '0' in '127.0.0.1:0' (expected 1-65535)");
        assertThat(DonorAddress.parseListen("127.0.0.1:0")).isEqualTo(new DonorAddress("127.0.0.1", 0));
        assertThatThrownBy(() -> DonorAddress.parseListen("127.0.0.1:x"))
                .hasMessage("bad port 'x' in '127.0.0.1:x' (expected 0-65535)");
    }

    @Test
    void constructorValidatesLikeParse() {
        assertThatThrownBy(() -> new DonorAddress("donor", 65536))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bad port 65536 for host 'donor' (expected 0-65535)");
        assertThatThrownBy(() -> new DonorAddress("bad host", 7070))
                .hasMessageContaining("character ' ' is not allowed");
        assertThat(new DonorAddress("0:0::1", 7070)).hasToString("[::1]:7070");
    }

    @Test
    void makesSocketAddressWithoutResolvingLiterals() {
        InetSocketAddress ipv4 = DonorAddress.parse("127.0.0.1:7070").toSocketAddress();
        InetSocketAddress ipv6 = DonorAddress.parse("[::1]:7071").toSocketAddress();

        assertThat(ipv4.isUnresolved()).isFalse();
        assertThat(ipv4.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(ipv4.getPort()).isEqualTo(7070);
        assertThat(ipv6.getAddress().isLoopbackAddress()).isTrue();
        assertThat(ipv6.getPort()).isEqualTo(7071);
    }
}
