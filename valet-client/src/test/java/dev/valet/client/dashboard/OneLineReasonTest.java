package dev.valet.client.dashboard;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** What operators read for an unreachable donor: one line, no netty internals. */
class OneLineReasonTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            unreachable: 127.0.0.1:1: cannot connect: finishConnect(..) failed with error(-111): Connection refused: /127.0.0.1:1 | connection refused (no donor listening there)
            cannot connect: finishConnect(..) failed: No route to host: /10.0.0.9:7070 | no route to host
            cannot connect: finishConnect(..) failed with error(-101): Network is unreachable | network unreachable
            cannot connect: finishConnect(..) failed with error(-98): Address in use: /127.0.0.1:7 | cannot connect: Address in use
            no HELLO_OK within 2000 ms | no HELLO_OK within 2000 ms
            """)
    void saysWhatItMeans(String problem, String said) {
        assertThat(OneLineReason.of(problem)).isEqualTo(said);
    }
}
