package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real netlink round trips with this machine's kernel, which has generic netlink (and so nlctrl) but no valet.ko:
 * the sockets, the family lookup, the error path, and the message every start-up without the module gives.
 */
class GenericNetlinkKernelTest {
    private static final String NOT_LOADED =
            "generic netlink family VALET not found: is valet.ko loaded? (setup/module.sh load)";

    @Test
    void resolvesTheControllerItself() throws Exception {
        try (GenericNetlink netlink = GenericNetlink.open()) {
            GenericNetlink.Family nlctrl = netlink.resolve(Netlink.GENL_CTRL_NAME);

            assertThat(nlctrl.id()).isEqualTo(Netlink.GENL_ID_CTRL);
            assertThat(nlctrl.name()).isEqualTo("nlctrl");
            assertThat(nlctrl.version()).isPositive();
            assertThat(netlink.endpoint().portId()).isNotZero();
            // Twice on one socket: sequence numbers and buffers are reused correctly.
            assertThat(netlink.resolve("nlctrl")).isEqualTo(nlctrl);
        }
    }

    @Test
    void missingValetFamilySaysHowToLoadTheModule() throws Exception {
        try (GenericNetlink netlink = GenericNetlink.open()) {
            assertThatThrownBy(() -> netlink.resolve("VALET"))
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

    @Test
    void kernelErrorsNameTheRequestAndStrerror() throws Exception {
        try (GenericNetlink netlink = GenericNetlink.open()) {
            netlink.request("CTRL command 99", Netlink.GENL_ID_CTRL, 99, Netlink.CTRL_VERSION, Netlink.NLM_F_ACK);

            assertThatThrownBy(() -> netlink.transact(null)).isInstanceOfSatisfying(NetlinkErrnoException.class,
                            e -> assertThat(e.errno()).isEqualTo(Netlink.EOPNOTSUPP))
                    .hasMessageStartingWith("CTRL command 99 failed: Operation not supported (errno 95)");
        }
    }

    @Test
    void dumpsEndAtNlmsgDone() throws Exception {
        try (GenericNetlink netlink = GenericNetlink.open()) {
            List<String> families = new ArrayList<>();
            AttributeReader a = new AttributeReader();
            netlink.request("family dump", Netlink.GENL_ID_CTRL, Netlink.CTRL_CMD_GETFAMILY, Netlink.CTRL_VERSION,
                    Netlink.NLM_F_DUMP);
            netlink.transact(m -> {
                m.attributes(a);
                while (a.next()) {
                    if (a.type() == Netlink.CTRL_ATTR_FAMILY_NAME) {
                        families.add(a.string());
                    }
                }
            });

            assertThat(families).contains("nlctrl").doesNotContain("VALET");
        }
    }

    @Test
    void socketOptionsAndTimeouts() throws Exception {
        try (NetlinkSocket socket = NetlinkSocket.open(Netlink.NETLINK_GENERIC)) {
            int receive = socket.setReceiveBufferSize(8 << 20);
            int send = socket.setSendBufferSize(1 << 20);
            assertThat(receive).isPositive();
            assertThat(send).isPositive();
            if (isRoot()) {
                // SO_RCVBUFFORCE: past net.core.rmem_max; the kernel reports twice the request.
                assertThat(receive).isEqualTo(16 << 20);
                assertThat(send).isEqualTo(2 << 20);
            }
            socket.setReceiveTimeout(Duration.ofMillis(20));
            ByteBuffer buffer = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
            long start = System.nanoTime();

            assertThat(socket.receive(buffer)).isEqualTo(NetlinkEndpoint.RECEIVE_TIMEOUT);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(15_000_000L);
            assertThat(socket.toString()).contains("port " + Integer.toUnsignedString(socket.portId()));
        }
    }

    @Test
    void datagramLargerThanTheBufferIsReportedNotSilentlyCut() throws Exception {
        try (NetlinkSocket socket = NetlinkSocket.open(Netlink.NETLINK_GENERIC)) {
            socket.setReceiveTimeout(Duration.ofSeconds(5));
            ByteBuffer tx = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
            MessageWriter w = new MessageWriter().wrap(tx);
            w.begin(Netlink.GENL_ID_CTRL, Netlink.NLM_F_REQUEST, 1, socket.portId())
                    .genl(Netlink.CTRL_CMD_GETFAMILY, Netlink.CTRL_VERSION)
                    .putString(Netlink.CTRL_ATTR_FAMILY_NAME, "nlctrl");
            socket.send(tx, 0, w.finish());
            ByteBuffer tiny = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder());

            assertThatThrownBy(() -> socket.receive(tiny)).isInstanceOf(MalformedMessageException.class)
                    .hasMessageContaining("did not fit in the 32-byte receive buffer");
        }
    }

    @Test
    void failedSystemCallsNameTheCallAndStrerror() {
        assertThatThrownBy(() -> NetlinkSocket.open(9999)).isInstanceOfSatisfying(NetlinkErrnoException.class,
                        e -> assertThat(e.errno()).isPositive())
                .hasMessageMatching("socket\\(AF_NETLINK, SOCK_RAW, 9999\\) failed: .+ \\(errno \\d+\\)");
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
