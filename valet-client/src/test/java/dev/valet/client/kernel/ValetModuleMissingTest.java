package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.netlink.FamilyNotFoundException;
import dev.valet.client.netlink.GenericNetlink;
import dev.valet.client.netlink.Netlink;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * This machine's kernel has generic netlink but no valet.ko: the message every start-up without the module gives,
 * from a real family lookup.
 */
class ValetModuleMissingTest {
    private static final String NOT_LOADED =
            "generic netlink family VALET not found: is valet.ko loaded? (setup/module.sh load)";

    @Test
    void missingValetFamilySaysHowToLoadTheModule() throws Exception {
        try (GenericNetlink netlink = GenericNetlink.open()) {
            assertThatThrownBy(() -> netlink.resolve("VALET", ValetControl.MODULE_NOT_LOADED))
                    .isInstanceOfSatisfying(FamilyNotFoundException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Netlink.ENOENT);
                        assertThat(e.family()).isEqualTo("VALET");
                    })
                    .hasMessage(NOT_LOADED);
            assertThatThrownBy(() -> netlink.resolve("no-such-family"))
                    .hasMessage("generic netlink family no-such-family not found");
            // The socket is still usable after an error answer.
            assertThat(netlink.resolve("nlctrl").id()).isEqualTo(Netlink.GENL_ID_CTRL);
        }
    }

    @Test
    void kernelChannelWithoutTheModuleFailsWithTheSameMessage() {
        PageStore store = new PageStore() {
            @Override
            public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
                throw new AssertionError();
            }

            @Override
            public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
                throw new AssertionError();
            }
        };
        KernelChannel.Settings settings = new KernelChannel.Settings(1 << 20, 4, Duration.ofSeconds(60),
                Duration.ofSeconds(30), ValetGenl.DEF_DATA_BYTES, 1);

        assertThatThrownBy(() -> KernelChannel.open(store, settings)).isInstanceOf(FamilyNotFoundException.class)
                .hasMessage(NOT_LOADED);
        assertThatThrownBy(ValetControl::open).hasMessage(NOT_LOADED);
    }
}
