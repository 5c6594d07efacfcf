package dev.valet.client.nbd;

import dev.valet.common.testing.FuzzTries;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AddLifecycleHook;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random and mutated bytes in both phases, a bounded number of tries each: no exception escapes the server's
 * handlers (an embedded channel rethrows one that reaches the end of its pipeline), every reply is a well-formed
 * simple reply, and the pages change only when a well-formed write was sent. A longer run raises the tries with
 * {@code -Dvalet.fuzz.tries=N} (docs/nbd.md).
 */
@AddLifecycleHook(FuzzTries.class)
class NbdFuzzTest {
    static final long SIZE = 256 * 1024;
    /**
     * Request I's cookie is (I + 1) times this: two cookies differ in every one of their low five bytes, so one
     * flipped byte cannot turn a cookie into another request's.
     */
    static final long COOKIE_SPREAD = 0x0101010101L;
    static final NbdExport EXPORT = new NbdExport("valet", SIZE, 16 * 1024, 4, 0);

    /** Sends {@code bytes} in pieces of at most {@code piece} bytes, as a socket might deliver them. */
    private static void sendInPieces(NbdWire wire, byte[] bytes, int piece) {
        for (int at = 0; at < bytes.length && wire.channel.isOpen(); at += piece) {
            wire.send(Unpooled.wrappedBuffer(bytes, at, Math.min(piece, bytes.length - at)));
        }
        wire.channel.checkException();
    }

    @Property(tries = 300)
    void anyBytesInTheHandshakeChangeNothing(@ForAll @Size(max = 600) byte[] bytes,
            @ForAll @IntRange(min = 1, max = 64) int piece, @ForAll boolean validFlags) {
        MemoryPages store = new MemoryPages(SIZE);
        NbdWire wire = new NbdWire(EXPORT, store);
        if (validFlags) {
            wire.send(Unpooled.buffer().writeInt(3).writeLong(NbdProtocol.IHAVEOPT));
        }
        sendInPieces(wire, bytes, piece);
        assertThat(store.calls).isZero();
        wire.channel.finishAndReleaseAll();
    }

    @Property(tries = 300)
    void anyBytesInTransmissionGetErrorsOrACloseAndChangeNothing(@ForAll @Size(max = 2000) byte[] bytes,
            @ForAll @IntRange(min = 1, max = 64) int piece) {
        MemoryPages store = new MemoryPages(SIZE);
        NbdWire wire = new NbdWire(EXPORT, store).go();
        sendInPieces(wire, bytes, piece);
        for (long[] reply = wire.reply(); reply != null; reply = wire.reply()) {
            assertThat(reply[1]).isNotZero();
        }
        assertThat(store.writes).isZero();
        assertThat(store.bytes).containsOnly(0);
        wire.channel.finishAndReleaseAll();
    }

    @Provide
    Arbitrary<List<Integer>> requestKinds() {
        return Arbitraries.integers().between(0, 7).list().ofMinSize(1).ofMaxSize(12);
    }

    /**
     * Well-formed requests, some of them writes of pages filled with one byte value per write, with one byte of
     * the stream flipped: the server answers or closes, the requests before the flipped one succeed, and the
     * pages are exactly what a model of the rules expects from the bytes sent ({@link #expectedPages}).
     */
    @Property(tries = 300)
    void mutatedRequestStreamsNeverCorruptOtherPages(@ForAll("requestKinds") List<Integer> kinds,
            @ForAll @IntRange(min = 0, max = 100_000) int flipAt, @ForAll @IntRange(min = 1, max = 255) int flip,
            @ForAll @IntRange(min = 1, max = 64) int piece) {
        MemoryPages store = new MemoryPages(SIZE);
        NbdWire wire = new NbdWire(EXPORT, store).go();
        ByteBuf stream = Unpooled.buffer();
        long cookie = 1;
        List<int[]> requests = new java.util.ArrayList<>();
        for (int kind : kinds) {
            requests.add(new int[] {stream.writerIndex(), kind});
            long offset = (cookie * 3 % (SIZE / 4096 - 2)) * 4096;
            int type = switch (kind) {
                case 0, 1, 2 -> NbdProtocol.CMD_WRITE;
                case 3, 4 -> NbdProtocol.CMD_READ;
                case 5 -> NbdProtocol.CMD_FLUSH;
                case 6 -> NbdProtocol.CMD_TRIM;
                default -> NbdProtocol.CMD_WRITE_ZEROES;
            };
            stream.writeBytes(NbdWire.request(0, type, cookie * COOKIE_SPREAD, offset,
                    type == NbdProtocol.CMD_FLUSH ? 0 : 8192));
            if (type == NbdProtocol.CMD_WRITE) {
                int value = (int) (cookie % 250) + 1;
                stream.writeBytes(filled(value));
            }
            cookie++;
        }
        byte[] bytes = new byte[stream.readableBytes()];
        stream.readBytes(bytes);
        int at = flipAt % bytes.length;
        bytes[at] ^= (byte) flip;
        sendInPieces(wire, bytes, piece);
        int mutated = 0;
        while (mutated + 1 < requests.size() && requests.get(mutated + 1)[0] <= at) {
            mutated++;
        }
        // Replies come in the order the requests finish: an error at once, a store call's answer after it.
        for (long[] reply = wire.reply(); reply != null; reply = wire.reply()) {
            int request = reply[0] % COOKIE_SPREAD == 0 ? (int) (reply[0] / COOKIE_SPREAD) - 1 : -1;
            if (request < 0 || request >= mutated) {
                break;
            }
            assertThat(reply[1]).as("error for request %d", request).isZero();
            if (requests.get(request)[1] == 3 || requests.get(request)[1] == 4) {
                wire.in().skipBytes(8192);
            }
        }
        assertThat(store.bytes).as("pages after the mutated stream").isEqualTo(expectedPages(bytes));
        wire.channel.finishAndReleaseAll();
    }

    /**
     * The pages a correct server holds after {@code stream}: a model of the rules, kept apart from the server's code.
     * Requests are taken in order until a bad magic, NBD_CMD_DISC or the end of the bytes; a WRITE, TRIM or
     * WRITE_ZEROES that passes the checks changes its pages, a bad WRITE's data is skipped.
     */
    private static byte[] expectedPages(byte[] stream) {
        byte[] pages = new byte[(int) SIZE];
        ByteBuf in = Unpooled.wrappedBuffer(stream);
        while (in.readableBytes() >= NbdProtocol.REQUEST_BYTES && in.readInt() == NbdProtocol.REQUEST_MAGIC) {
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            in.skipBytes(8);
            long offset = in.readLong();
            long length = in.readUnsignedInt();
            if (type == NbdProtocol.CMD_DISC) {
                break;
            }
            boolean writes = type == NbdProtocol.CMD_WRITE || type == NbdProtocol.CMD_TRIM
                    || type == NbdProtocol.CMD_WRITE_ZEROES;
            boolean ok = writes && (flags & ~3) == 0 && length > 0 && length % 4096 == 0 && offset % 4096 == 0
                    && (type != NbdProtocol.CMD_WRITE || length <= EXPORT.maxRequestBytes())
                    && offset >= 0 && offset <= SIZE - length;
            if (type == NbdProtocol.CMD_WRITE) {
                if (length > NbdRequestDecoder.MAX_DISCARD_BYTES && !ok || in.readableBytes() < length) {
                    break;
                }
                if (ok) {
                    in.getBytes(in.readerIndex(), pages, (int) offset, (int) length);
                }
                in.skipBytes((int) length);
            } else if (ok) {
                java.util.Arrays.fill(pages, (int) offset, (int) (offset + length), (byte) 0);
            }
        }
        return pages;
    }

    private static byte[] filled(int value) {
        byte[] b = new byte[8192];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }
}
