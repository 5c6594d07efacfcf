package dev.valet.common.portal;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DonorAddressPropertyTest {

    @Property
    void canonicalTextReadsBackToTheSameAddress(@ForAll("addresses") String text) {
        DonorAddress address = DonorAddress.parse(text);

        assertThat(DonorAddress.parse(address.toString())).isEqualTo(address);
        assertThat(DonorAddress.parse(address.toString())).hasToString(address.toString());
    }

    @Property
    void ipv6CanonicalFormIsTheSameAddressAsJavaReads(@ForAll("ipv6Groups") int[] groups,
            @ForAll @IntRange(min = 1, max = 65535) int port) throws UnknownHostException {
        String full = IntStream.of(groups).mapToObj(Integer::toHexString).collect(Collectors.joining(":"));

        DonorAddress address = DonorAddress.parse("[" + full + "]:" + port);

        // A literal is parsed by InetAddress without a DNS lookup, so it is a fair oracle.
        assertThat(InetAddress.getByName(address.host()).getAddress())
                .isEqualTo(InetAddress.getByName(full).getAddress());
        assertThat(address.host()).doesNotContain(":::").doesNotMatch(".*::.*::.*");
        assertThat(address.port()).isEqualTo(port);
    }

    @Property
    void anyPortOutsideTheRangeIsRefused(@ForAll int port) {
        Assume.that(port < 1 || port > 65535);
        assertThatThrownBy(() -> DonorAddress.parse("donor:" + port))
                .hasMessageContaining("expected 1-65535");
    }

    @Provide
    Arbitrary<String> addresses() {
        Arbitrary<String> ipv4 = Arbitraries.integers().between(0, 255).list().ofSize(4)
                .map(octets -> octets.stream().map(String::valueOf).collect(Collectors.joining(".")));
        Arbitrary<String> label = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z')
                .withCharRange('0', '9').withChars('-', '_').ofMinLength(1).ofMaxLength(12)
                .filter(s -> !s.startsWith("-") && !s.endsWith("-") && !s.matches("[0-9]+"));
        Arbitrary<String> hostName = label.list().ofMinSize(1).ofMaxSize(4).map(labels -> String.join(".", labels));
        Arbitrary<String> ipv6 = ipv6Groups().map(groups -> "[" + IntStream.of(groups)
                .mapToObj(Integer::toHexString).collect(Collectors.joining(":")) + "]");
        Arbitrary<Integer> port = Arbitraries.integers().between(1, 65535);
        return Combinators.combine(Arbitraries.oneOf(ipv4, hostName, ipv6), port)
                .as((host, p) -> host + ":" + p);
    }

    /** Eight groups, biased towards zeros so that runs of zeros (and their compression) are common. */
    @Provide
    Arbitrary<int[]> ipv6Groups() {
        Arbitrary<Integer> group = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0)),
                Tuple.of(2, Arbitraries.integers().between(0, 0xffff)));
        return group.array(Integer[].class).ofSize(8)
                .map(boxed -> Arrays.stream(boxed).mapToInt(Integer::intValue).toArray());
    }
}
