package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeDescriptor;
import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.MessageReader;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every message shape of the VALET family, written with {@link MessageWriter} and read back with the readers. */
class MessageCodecTest {
    static final int FAMILY = 0x1d;

    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.nativeOrder());
    private final MessageWriter writer = new MessageWriter().wrap(buffer);
    private final MessageReader reader = new MessageReader();
    private final AttributeReader attributes = new AttributeReader();
    private final AttributeReader nested = new AttributeReader();

    static ByteBuffer pattern(int length, int seed) {
        ByteBuffer data = ByteBuffer.allocateDirect(length).order(ByteOrder.nativeOrder());
        for (int i = 0; i < length; i++) {
            data.put(i, (byte) (i * 31 + seed));
        }
        return data;
    }

    @Test
    void ioMessageWithSeveralRequestsRoundTripsWithoutAnyData() throws Exception {
        writer.begin(FAMILY, 0, 0, 0).genl(ValetGenl.CMD_IO, ValetGenl.GENL_VERSION)
                .putU32(ValetGenl.ATTR_INDEX, 4);
        writer.beginNest(ValetGenl.ATTR_REQ).putU64(ValetGenl.REQ_COOKIE, 0xfedcba9876543210L)
                .putU8(ValetGenl.REQ_OP, ValetGenl.OP_READ).putU64(ValetGenl.REQ_OFFSET, 1L << 33)
                .putU32(ValetGenl.REQ_LENGTH, 16384).putU32(ValetGenl.REQ_BUF, 0xfffff000).endNest();
        writer.beginNest(ValetGenl.ATTR_REQ).putU64(ValetGenl.REQ_COOKIE, 2)
                .putU8(ValetGenl.REQ_OP, ValetGenl.OP_WRITE).putU64(ValetGenl.REQ_OFFSET, 4096)
                .putU32(ValetGenl.REQ_LENGTH, ValetGenl.MAX_IO_BYTES).putU32(ValetGenl.REQ_BUF, 8192).endNest();
        writer.beginNest(ValetGenl.ATTR_REQ).putU64(ValetGenl.REQ_COOKIE, 3)
                .putU8(ValetGenl.REQ_OP, ValetGenl.OP_FLUSH).endNest();
        int length = writer.finish();

        // headers, INDEX, two REQs of 52 bytes (a 512 KiB write among them: descriptors only), a FLUSH of 24
        assertThat(length).isEqualTo(16 + 4 + 8 + 2 * 52 + 24);
        assertThat(buffer.getInt(0)).isEqualTo(length);
        reader.wrap(buffer, 0, length);
        assertThat(reader.next()).isTrue();
        assertThat(reader.type()).isEqualTo(FAMILY);
        assertThat(reader.command()).isEqualTo(ValetGenl.CMD_IO);
        assertThat(reader.version()).isEqualTo(ValetGenl.GENL_VERSION);
        reader.attributes(attributes);
        IoRequest r = new IoRequest();
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.type()).isEqualTo(ValetGenl.ATTR_INDEX);
        assertThat(attributes.u32()).isEqualTo(4);

        assertThat(attributes.next()).isTrue();
        assertThat(attributes.type()).isEqualTo(ValetGenl.ATTR_REQ);
        assertThat(attributes.markedNested()).isTrue();
        r.decode(attributes.nested(nested));
        assertThat(r.hasCookie).isTrue();
        assertThat(r.cookie).isEqualTo(0xfedcba9876543210L);
        assertThat(r.op).isEqualTo(ValetGenl.OP_READ);
        assertThat(r.offset).isEqualTo(1L << 33);
        assertThat(r.length).isEqualTo(16384);
        assertThat(r.buf).as("a u32, unsigned").isEqualTo(0xfffff000L);
        assertThat(r.problem(1L << 34)).isZero();
        assertThat(r.problem(1L << 33)).isEqualTo(Netlink.EINVAL);

        assertThat(attributes.next()).isTrue();
        r.decode(attributes.nested(nested));
        assertThat(r.cookie).isEqualTo(2);
        assertThat(r.op).isEqualTo(ValetGenl.OP_WRITE);
        assertThat(r.offset).isEqualTo(4096);
        assertThat(r.length).isEqualTo(ValetGenl.MAX_IO_BYTES);
        assertThat(r.buf).isEqualTo(8192);
        assertThat(r.problem(1 << 20)).isZero();
        assertThat(r.bufferProblem(8192 + ValetGenl.MAX_IO_BYTES)).isZero();

        assertThat(attributes.next()).isTrue();
        r.decode(attributes.nested(nested));
        assertThat(r.cookie).isEqualTo(3);
        assertThat(r.op).isEqualTo(ValetGenl.OP_FLUSH);
        assertThat(r.buf).isEqualTo(IoRequest.ABSENT);
        assertThat(r.movesData()).isFalse();
        assertThat(r.problem(1 << 20)).isZero();

        assertThat(attributes.next()).isFalse();
        assertThat(reader.next()).isFalse();
    }

    @Test
    void doneMessageOfCookiesAndStatusesRoundTrips() throws Exception {
        writer.begin(FAMILY, Netlink.NLM_F_REQUEST, 77, 1234).genl(ValetGenl.CMD_DONE, ValetGenl.GENL_VERSION);
        writer.beginNest(ValetGenl.ATTR_CPL).putU64(ValetGenl.CPL_COOKIE, 10).putS32(ValetGenl.CPL_STATUS, 0)
                .endNest();
        writer.beginNest(ValetGenl.ATTR_CPL).putU64(ValetGenl.CPL_COOKIE, 11)
                .putS32(ValetGenl.CPL_STATUS, -Netlink.EIO).endNest();
        writer.beginNest(ValetGenl.ATTR_CPL).putU64(ValetGenl.CPL_COOKIE, 12).putS32(ValetGenl.CPL_STATUS, 0)
                .endNest();
        int length = writer.finish();

        assertThat(length).isEqualTo(16 + 4 + 3 * CompletionSender.CPL_BYTES);
        reader.wrap(buffer, 0, length);
        assertThat(reader.next()).isTrue();
        assertThat(reader.flags()).isEqualTo(Netlink.NLM_F_REQUEST);
        assertThat(reader.seq()).isEqualTo(77);
        assertThat(reader.portId()).isEqualTo(1234);
        assertThat(reader.command()).isEqualTo(ValetGenl.CMD_DONE);
        reader.attributes(attributes);
        long[] cookies = new long[3];
        int[] statuses = new int[3];
        int n = 0;
        while (attributes.next()) {
            assertThat(attributes.type()).isEqualTo(ValetGenl.ATTR_CPL);
            assertThat(attributes.markedNested()).isTrue();
            attributes.nested(nested);
            while (nested.next()) {
                switch (nested.type()) {
                    case ValetGenl.CPL_COOKIE -> cookies[n] = nested.u64();
                    case ValetGenl.CPL_STATUS -> statuses[n] = nested.s32();
                    default -> throw new AssertionError("attribute " + nested.type());
                }
            }
            n++;
        }
        assertThat(n).isEqualTo(3);
        assertThat(cookies).containsExactly(10, 11, 12);
        assertThat(statuses).containsExactly(0, -Netlink.EIO, 0);
    }

    @Test
    void statusRepliesForSeveralDevicesRoundTrip() throws Exception {
        int length = statusReply(writer, 5, 0, 1L << 33, true);
        length = statusReply(writer, 6, 1, 4096, false);

        reader.wrap(buffer, 0, length);
        assertThat(reader.next()).isTrue();
        DeviceStatus first = DeviceStatus.read(reader.attributes(attributes));
        assertThat(reader.next()).isTrue();
        DeviceStatus second = DeviceStatus.read(reader.attributes(attributes));
        assertThat(reader.next()).isFalse();

        assertThat(first).isEqualTo(new DeviceStatus(0, 1L << 33, 256, 60000, 30000, 32L << 20, 0, true, 10, 11, 12,
                13, 14, 15, 16, 17, 18, 19, 22, 23, 24, 25));
        assertThat(first.devicePath()).isEqualTo("/dev/valet0");
        assertThat(second.index()).isEqualTo(1);
        assertThat(second.size()).isEqualTo(4096);
        assertThat(second.attached()).isFalse();
        assertThat(second.dataBytes()).isEqualTo(32L << 20);
    }

    @Test
    void statusWithoutDataBytesSaysSo() throws Exception {
        writer.begin(FAMILY, 0, 1, 0).genl(ValetGenl.CMD_STATUS, 1).putU32(ValetGenl.ATTR_INDEX, 2)
                .putU64(ValetGenl.ATTR_SIZE, 4096);
        int length = writer.finish();
        reader.wrap(buffer, 0, length);
        reader.next();

        DeviceStatus d = DeviceStatus.read(reader.attributes(attributes));

        assertThat(d.dataBytes()).isEqualTo(-1);
        assertThat(d.busy()).isZero();
    }

    @Test
    void statusCarriesTheTierAreaSizeAndNoneIsZero() throws Exception {
        writer.begin(FAMILY, 0, 1, 0).genl(ValetGenl.CMD_STATUS, ValetGenl.GENL_VERSION)
                .putU32(ValetGenl.ATTR_INDEX, 2).putU64(ValetGenl.ATTR_SIZE, 4096)
                .putU64(ValetGenl.ATTR_DATA_BYTES, 1L << 20).putU64(ValetGenl.ATTR_TIER_BYTES, 32L << 20).finish();
        writer.begin(FAMILY, 0, 1, 0).genl(ValetGenl.CMD_STATUS, ValetGenl.GENL_VERSION)
                .putU32(ValetGenl.ATTR_INDEX, 3).putU64(ValetGenl.ATTR_SIZE, 4096)
                .putU64(ValetGenl.ATTR_DATA_BYTES, 1L << 20).putU64(ValetGenl.ATTR_TIER_BYTES, 0);
        int length = writer.finish();
        reader.wrap(buffer, 0, length);

        reader.next();
        DeviceStatus withTier = DeviceStatus.read(reader.attributes(attributes));
        reader.next();
        DeviceStatus without = DeviceStatus.read(reader.attributes(attributes));

        assertThat(withTier.tierBytes()).isEqualTo(32L << 20);
        assertThat(withTier.dataBytes()).isEqualTo(1L << 20);
        assertThat(without.tierBytes()).isZero();
    }

    /** One STATUS answer, as the driver sends it (u64 counters after a PAD, as nla_put_u64_64bit may). */
    static int statusReply(MessageWriter w, int seq, int index, long size, boolean attached) {
        w.begin(FAMILY, 0, seq, 0).genl(ValetGenl.CMD_STATUS, ValetGenl.GENL_VERSION)
                .putU32(ValetGenl.ATTR_INDEX, index)
                .putBytes(ValetGenl.ATTR_PAD, ByteBuffer.allocateDirect(0), 0, 0)
                .putU64(ValetGenl.ATTR_SIZE, size)
                .putU32(ValetGenl.ATTR_QUEUE_DEPTH, 256)
                .putU32(ValetGenl.ATTR_HOLD_MS, 60000)
                .putU32(ValetGenl.ATTR_IO_TIMEOUT_MS, 30000)
                .putU8(ValetGenl.ATTR_ATTACHED, attached ? 1 : 0)
                .putU32(ValetGenl.ATTR_STAT_INFLIGHT, 10)
                .putU32(ValetGenl.ATTR_STAT_HELD, 11);
        for (int a = ValetGenl.ATTR_STAT_READS; a <= ValetGenl.ATTR_STAT_REJECTED; a++) {
            w.putU64(a, a);
        }
        w.putU64(ValetGenl.ATTR_DATA_BYTES, 32L << 20);
        for (int a = ValetGenl.ATTR_STAT_BUSY; a <= ValetGenl.ATTR_STAT_SERVED_NS; a++) {
            w.putU64(a, a);
        }
        return w.finish();
    }

    @Test
    void controlRequestsRoundTrip() throws Exception {
        writer.begin(Netlink.GENL_ID_CTRL, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, 9, 0)
                .genl(Netlink.CTRL_CMD_GETFAMILY, Netlink.CTRL_VERSION)
                .putString(Netlink.CTRL_ATTR_FAMILY_NAME, "VALET");
        int length = writer.finish();
        // nlmsghdr 16 + genlmsghdr 4 + nlattr 4 + "VALET\0" 6, padded to 8
        assertThat(length).isEqualTo(32);
        assertThat(buffer.getShort(20) & 0xffff).isEqualTo(10);
        assertThat(buffer.get(29)).isZero();
        assertThat(buffer.get(30)).isZero();
        assertThat(buffer.get(31)).isZero();

        reader.wrap(buffer, 0, length);
        assertThat(reader.next()).isTrue();
        assertThat(reader.type()).isEqualTo(Netlink.GENL_ID_CTRL);
        assertThat(reader.flags()).isEqualTo(Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK);
        reader.attributes(attributes);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.string()).isEqualTo("VALET");
        assertThat(attributes.next()).isFalse();
    }

    @Test
    void createAttachAndDetachRequestsCarryTheirAttributes() throws Exception {
        writer.begin(FAMILY, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, 1, 5).genl(ValetGenl.CMD_CREATE, 1)
                .putU64(ValetGenl.ATTR_SIZE, 8L << 30).putU32(ValetGenl.ATTR_QUEUE_DEPTH, 128)
                .putU32(ValetGenl.ATTR_HOLD_MS, 60_000).putU32(ValetGenl.ATTR_IO_TIMEOUT_MS, 30_000)
                .putU64(ValetGenl.ATTR_DATA_BYTES, ValetGenl.DEF_DATA_BYTES);
        int first = writer.finish();
        writer.begin(FAMILY, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, 2, 5).genl(ValetGenl.CMD_ATTACH, 1)
                .putU32(ValetGenl.ATTR_VERSION, ValetGenl.GENL_VERSION);
        writer.finish();
        writer.begin(FAMILY, Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, 3, 5).genl(ValetGenl.CMD_DETACH, 1);
        int length = writer.finish();

        assertThat(first).isEqualTo(16 + 4 + 12 + 8 + 8 + 8 + 12);
        reader.wrap(buffer, 0, length);
        assertThat(reader.next()).isTrue();
        reader.attributes(attributes);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.u64()).isEqualTo(8L << 30);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.u32()).isEqualTo(128);
        assertThat(attributes.next() && attributes.next() && attributes.next()).isTrue();
        assertThat(attributes.type()).isEqualTo(ValetGenl.ATTR_DATA_BYTES);
        assertThat(attributes.u64()).isEqualTo((long) ValetGenl.DEF_DATA_BYTES);
        assertThat(attributes.next()).isFalse();
        assertThat(reader.next()).isTrue();
        assertThat(reader.command()).isEqualTo(ValetGenl.CMD_ATTACH);
        reader.attributes(attributes);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.type()).isEqualTo(ValetGenl.ATTR_VERSION);
        assertThat(attributes.u32()).isEqualTo(ValetGenl.GENL_VERSION);
        assertThat(reader.next()).isTrue();
        assertThat(reader.command()).isEqualTo(ValetGenl.CMD_DETACH);
        assertThat(reader.payloadLength()).isEqualTo(4);
        assertThat(reader.next()).isFalse();
    }

    @Test
    void errorsAndAcknowledgementsAreRead() throws Exception {
        int length = FakeKernel.error(writer, 42, -Netlink.EBUSY, "device is open");
        length = FakeKernel.error(writer, 43, 0, null);

        reader.wrap(buffer, 0, length);
        assertThat(reader.next()).isTrue();
        assertThat(reader.isError()).isTrue();
        assertThat(reader.seq()).isEqualTo(42);
        assertThat(reader.error()).isEqualTo(-Netlink.EBUSY);
        assertThat(reader.errorRequestSeq()).isEqualTo(42);
        assertThat(reader.errorMessage()).isEqualTo("device is open");
        assertThat(reader.next()).isTrue();
        assertThat(reader.error()).isZero();
        assertThat(reader.errorMessage()).isNull();
        assertThat(reader.next()).isFalse();
    }

    @Test
    void writerRefusesWhatNetlinkCannotSay() {
        ByteBuffer big = pattern(AttributeDescriptor.MAX_PAYLOAD + 1, 0);
        writer.begin(FAMILY, 0, 0, 0).genl(ValetGenl.CMD_STATUS, 1);

        assertThatThrownBy(() -> writer.putBytes(ValetGenl.ATTR_PAD, big, 0, big.capacity()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 65531");
        writer.beginNest(ValetGenl.ATTR_REQ).putU64(ValetGenl.REQ_COOKIE, 1)
                .putBytes(ValetGenl.REQ_PAD, big, 0, AttributeDescriptor.MAX_PAYLOAD - 8);
        assertThatThrownBy(writer::endNest).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exceeds nla_len");
        assertThat(ValetGenl.MAX_IO_BYTES).as("why data travels in the data area, not in attributes")
                .isGreaterThan(AttributeDescriptor.MAX_PAYLOAD);
    }

    @Test
    void writerStopsAtTheEndOfItsRegion() {
        MessageWriter small = new MessageWriter().wrap(buffer, 0, 40);
        small.begin(FAMILY, 0, 0, 0).genl(ValetGenl.CMD_DONE, 1).putU64(ValetGenl.CPL_COOKIE, 1);

        assertThat(small.fits(8)).isTrue();
        assertThat(small.fits(9)).isFalse();
        assertThatThrownBy(() -> small.putU64(ValetGenl.CPL_COOKIE, 2)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("buffer full");
        assertThatThrownBy(() -> new MessageWriter().wrap(ByteBuffer.allocateDirect(64).order(ByteOrder.BIG_ENDIAN
                == ByteOrder.nativeOrder() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void nestsMustBeClosedBeforeFinishing() {
        writer.begin(FAMILY, 0, 0, 0).genl(ValetGenl.CMD_DONE, 1).beginNest(ValetGenl.ATTR_CPL);

        assertThatThrownBy(writer::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("not ended");
    }

    @Test
    void unalignedAttributesArePaddedAndTheLastPadMayBeMissing() throws Exception {
        writer.begin(FAMILY, 0, 0, 0).genl(ValetGenl.CMD_STATUS, 1).putU8(ValetGenl.ATTR_ATTACHED, 1)
                .putU32(ValetGenl.ATTR_INDEX, 3).putU8(ValetGenl.ATTR_ATTACHED, 0);
        int length = writer.finish();
        assertThat(length).isEqualTo(16 + 4 + 8 + 8 + 8);

        // Without the last attribute's 3 bytes of padding, as a sender may leave it.
        buffer.putInt(0, length - 3);
        reader.wrap(buffer, 0, length - 3);
        assertThat(reader.next()).isTrue();
        reader.attributes(attributes);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.u8()).isEqualTo(1);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.u32()).isEqualTo(3);
        assertThat(attributes.next()).isTrue();
        assertThat(attributes.u8()).isZero();
        assertThat(attributes.next()).isFalse();
    }

    @Test
    void requestProblemsAreNamedByErrno() {
        IoRequest r = new IoRequest();
        r.hasCookie = true;
        r.op = ValetGenl.OP_READ;
        r.offset = 0;
        r.length = 4096;
        long device = 1 << 20;
        assertThat(r.problem(device)).isZero();
        r.offset = device - 4096;
        assertThat(r.problem(device)).isZero();
        r.offset = device;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.offset = Long.MAX_VALUE - 4095;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.offset = 512;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.offset = 0;
        r.length = 6000;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.length = 0;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.length = ValetGenl.MAX_IO_BYTES + 4096;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.length = ValetGenl.MAX_IO_BYTES;
        assertThat(r.problem(device)).as("a whole 512 KiB request").isZero();
        r.op = ValetGenl.OP_WRITE;
        assertThat(r.problem(device)).isZero();
        r.op = 9;
        assertThat(r.problem(device)).isEqualTo(Netlink.EOPNOTSUPP);
        r.op = IoRequest.ABSENT;
        assertThat(r.problem(device)).isEqualTo(Netlink.EINVAL);
        r.op = ValetGenl.OP_FLUSH;
        r.length = IoRequest.ABSENT;
        assertThat(r.problem(device)).isZero();
    }

    @Test
    void bufferProblemsAreEinval() {
        IoRequest r = new IoRequest();
        r.op = ValetGenl.OP_WRITE;
        r.length = 8192;
        long area = ValetGenl.DEF_DATA_BYTES;
        r.buf = IoRequest.ABSENT;
        assertThat(r.bufferProblem(area)).as("missing").isEqualTo(Netlink.EINVAL);
        r.buf = 0;
        assertThat(r.bufferProblem(area)).isZero();
        r.buf = area - 8192;
        assertThat(r.bufferProblem(area)).as("the area's last two blocks").isZero();
        r.buf = area - 4096;
        assertThat(r.bufferProblem(area)).as("runs past the area").isEqualTo(Netlink.EINVAL);
        r.buf = area;
        assertThat(r.bufferProblem(area)).isEqualTo(Netlink.EINVAL);
        r.buf = 0xfffff000L;
        assertThat(r.bufferProblem(area)).isEqualTo(Netlink.EINVAL);
        r.buf = 2048;
        assertThat(r.bufferProblem(area)).as("not a multiple of 4096").isEqualTo(Netlink.EINVAL);
    }
}
