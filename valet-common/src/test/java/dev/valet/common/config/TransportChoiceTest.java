package dev.valet.common.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransportChoiceTest {

    @Test
    void readsTheConfiguredWords() {
        assertThat(TransportChoice.parse("epoll")).isEqualTo(TransportChoice.EPOLL);
        assertThat(TransportChoice.parse("nio")).isEqualTo(TransportChoice.NIO);
        assertThat(TransportChoice.parse(" AUTO ")).isEqualTo(TransportChoice.AUTO);
    }

    @Test
    void printsTheConfiguredWord() {
        assertThat(TransportChoice.EPOLL).hasToString("epoll");
        assertThat(TransportChoice.AUTO.configName()).isEqualTo("auto");
    }

    @Test
    void rejectsOtherWordsListingTheChoices() {
        assertThatThrownBy(() -> TransportChoice.parse("kqueue"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown transport 'kqueue' (expected one of epoll, nio, auto)");
    }
}
