package dev.valet.common.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransportChoiceTest {

    @Test
    void readsTheConfiguredWords() {
        assertThat(TransportChoice.parse("rdma")).isEqualTo(TransportChoice.RDMA);
        assertThat(TransportChoice.parse("tcp")).isEqualTo(TransportChoice.TCP);
        assertThat(TransportChoice.parse(" AUTO ")).isEqualTo(TransportChoice.AUTO);
    }

    @Test
    void printsTheConfiguredWord() {
        assertThat(TransportChoice.RDMA).hasToString("rdma");
        assertThat(TransportChoice.AUTO.configName()).isEqualTo("auto");
    }

    @Test
    void rejectsOtherWordsListingTheChoices() {
        assertThatThrownBy(() -> TransportChoice.parse("kqueue"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown transport 'kqueue' (expected one of rdma, tcp, auto)");
        // The netty flavours this key once meant are refused now, naming what it means today.
        assertThatThrownBy(() -> TransportChoice.parse("epoll"))
                .hasMessage("unknown transport 'epoll' (expected one of rdma, tcp, auto)");
    }
}
