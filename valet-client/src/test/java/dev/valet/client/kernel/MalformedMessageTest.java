package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.MalformedMessageException;
import dev.valet.client.netlink.MessageReader;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Whatever the kernel (or a bug in the driver) sends, reading it never goes outside the message. */
class MalformedMessageTest {
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
    private final MessageWriter writer = new MessageWriter().wrap(buffer);
    private final MessageReader reader = new MessageReader();
    private final AttributeReader attributes = new AttributeReader();
    private final AttributeReader nested = new AttributeReader();

    /**
     * An IO message with one write of 4096 bytes; returns its length (72). The REQ nest starts at 20: COOKIE at 24,
     * OP at 36, OFFSET at 44, LENGTH at 56, BUF at 64.
     */
    private int ioMessage() {
        return FakeKernelBytes.write(writer, FakeKernel.io(FakeKernel.write(1, 0, 4096, 8192)));
    }

    /** Walks a datagram as the receive loop does: every message, attribute and REQ. */
    private void readAll(int length) throws MalformedMessageException {
        IoRequest r = new IoRequest();
        reader.wrap(buffer, 0, length);
        while (reader.next()) {
            if (reader.type() == Netlink.NLMSG_ERROR) {
                reader.error();
                reader.errorMessage();
                continue;
            }
            reader.attributes(attributes);
            while (attributes.next()) {
                if (attributes.type() == ValetGenl.ATTR_REQ) {
                    r.decode(attributes.nested(nested));
                }
            }
        }
    }

    @Test
    void attributeShorterThanItsHeaderIsRejected() {
        int length = ioMessage();
        buffer.putShort(20, (short) 2);

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessage("attribute type 7 has length 2, less than its 4-byte header");
    }

    @Test
    void attributeRunningPastTheEndOfTheMessageIsRejected() {
        int length = ioMessage();
        buffer.putShort(20, (short) (length - 20 + 4));

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("runs past the end of its message");
    }

    @Test
    void messageTruncatedInsideAnAttributeIsRejected() {
        int length = ioMessage();
        int cut = length - 6; // inside BUF
        buffer.putInt(0, cut);

        assertThatThrownBy(() -> readAll(cut)).isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("runs past the end");
    }

    @Test
    void nestedAttributeRunningPastItsNestIsRejected() {
        int length = ioMessage();
        assertThat(length).isEqualTo(72);
        // Shrink the REQ nest so that its BUF attribute now ends outside it (but inside the message).
        int nestLength = buffer.getShort(20) & 0xffff;
        buffer.putShort(20, (short) (nestLength - 4));
        // Make the rest of the message well-formed at the top level: the cut-off bytes become one attribute.
        buffer.putShort(20 + nestLength - 4, (short) 4);
        buffer.putShort(20 + nestLength - 2, (short) ValetGenl.ATTR_PAD);

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("attribute type 5 of length 8 runs past the end");
    }

    @Test
    void nestWhosePayloadIsNotAttributesIsRejected() {
        writer.begin(FakeKernel.FAMILY, 0, 0, 0).genl(ValetGenl.CMD_IO, 1)
                .putU8(ValetGenl.ATTR_REQ, 1); // a REQ of one byte: not attributes
        int length = writer.finish();

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessage("1 trailing byte(s) after the last attribute");
    }

    @Test
    void fixedSizeValuesOfTheWrongSizeAreRejected() {
        writer.begin(FakeKernel.FAMILY, 0, 0, 0).genl(ValetGenl.CMD_IO, 1).beginNest(ValetGenl.ATTR_REQ)
                .putU32(ValetGenl.REQ_COOKIE, 1).endNest();
        int length = writer.finish();

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessage("attribute type 1 has 4 byte(s) of payload, expected 8");
    }

    @Test
    void stringWithoutTerminatorIsRejected() throws Exception {
        writer.begin(Netlink.GENL_ID_CTRL, 0, 0, 0).genl(1, 2).putU32(Netlink.CTRL_ATTR_FAMILY_NAME, 0x41414141);
        int length = writer.finish();
        reader.wrap(buffer, 0, length);
        reader.next();
        reader.attributes(attributes).next();

        assertThatThrownBy(attributes::string).isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("no NUL terminator");
    }

    @Test
    void netlinkHeaderLengthsAreChecked() {
        int length = ioMessage();
        buffer.putInt(0, length + 4);
        assertThatThrownBy(() -> readAll(length)).hasMessageContaining("runs past the end of the datagram");
        buffer.putInt(0, 8);
        assertThatThrownBy(() -> readAll(length)).hasMessageContaining("less than its 16-byte header");
        buffer.putInt(0, -1);
        assertThatThrownBy(() -> readAll(length)).hasMessageContaining("netlink message of length 4294967295");
        buffer.putInt(0, length);
        assertThatThrownBy(() -> readAll(length + 8)).hasMessage("8 trailing byte(s) after the last netlink message");
    }

    @Test
    void genericMessageWithoutRoomForItsHeaderIsRejected() {
        writer.begin(FakeKernel.FAMILY, 0, 0, 0);
        int length = writer.finish();
        reader.wrap(buffer, 0, length);

        assertThatThrownBy(() -> {
            reader.next();
            reader.command();
        }).isInstanceOf(MalformedMessageException.class).hasMessageContaining("no room for its genlmsghdr");
    }

    @Test
    void shortErrorMessagesAreRejected() {
        writer.begin(Netlink.NLMSG_ERROR, 0, 0, 0).reserveBytes(8);
        int length = writer.finish();

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("no room for nlmsgerr");
    }

    @Test
    void extendedAckPointingPastTheErrorIsRejected() {
        int length = FakeKernel.error(writer, 1, -Netlink.EINVAL, "x");
        buffer.putShort(6, (short) Netlink.NLM_F_ACK_TLVS); // not capped: the echoed request "is" 16 bytes ...
        buffer.putInt(20, 4000); // ... no, 4000

        assertThatThrownBy(() -> readAll(length)).isInstanceOf(MalformedMessageException.class)
                .hasMessageContaining("echoed request of 4000 bytes");
    }

    /**
     * Thousands of random corruptions of valid messages (bytes flipped, lengths changed, cut short): the readers
     * either read something or throw MalformedMessageException, never anything else (no IndexOutOfBounds).
     */
    @Test
    void randomCorruptionsNeverReadOutsideTheMessage() {
        Random random = new Random(20240601);
        byte[] clean = new byte[ioMessage()];
        buffer.get(0, clean);
        int malformed = 0;
        for (int round = 0; round < 20_000; round++) {
            buffer.put(0, clean);
            int length = clean.length;
            int mutations = 1 + random.nextInt(4);
            for (int i = 0; i < mutations; i++) {
                switch (random.nextInt(4)) {
                    case 0 -> buffer.put(random.nextInt(length), (byte) random.nextInt());
                    case 1 -> buffer.putShort(random.nextInt(length / 4) * 4, (short) random.nextInt(1 << 16));
                    case 2 -> buffer.putShort(20 + random.nextInt(60) / 4 * 4, (short) random.nextInt(5000));
                    default -> length = length > 17 ? 16 + random.nextInt(length - 16) : length;
                }
            }
            try {
                readAll(length);
            } catch (MalformedMessageException expected) {
                malformed++;
            }
        }
        assertThat(malformed).isGreaterThan(1000);
    }
}
