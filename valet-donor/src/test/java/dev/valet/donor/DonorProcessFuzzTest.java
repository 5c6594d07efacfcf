package dev.valet.donor;

import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.Frame;
import dev.valet.common.protocol.FrameDecoder;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.Hello;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageBatchEncoder;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PageIndexList;
import dev.valet.common.protocol.PagesAck;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real donor process on loopback, attacked over plain sockets: garbage on fresh connections, a header announcing
 * a 1 GiB frame, and mutated requests after a valid HELLO. It must answer what it can, close what it must, stay
 * up, keep a good client's data, still serve a new good client, and stop cleanly on SIGTERM.
 */
class DonorProcessFuzzTest {
    private static final long SEED = 0x5EED_D0D0L;
    /** The donor's default maxFrameBytes (1M): the cap its replies respect. */
    private static final int DONOR_MAX_FRAME = 1 << 20;
    private static final int TIMEOUT_MS = 2000;
    private static final int PAGE = FrameHeader.PAGE_SIZE;

    @TempDir
    Path dir;

    enum End { EOF, RESET, TIMEOUT }

    /** What one connection got back: the reply bytes, and how the connection ended. */
    record Exchange(byte[] received, End end, boolean writeFailed) {
    }

    record Reply(int opcodeCode, long requestId, byte[] body) {
        Opcode opcode() {
            return Opcode.fromCode(opcodeCode);
        }

        ErrorReply error() {
            assertThat(opcode()).isEqualTo(Opcode.ERROR);
            ByteBuf b = Unpooled.wrappedBuffer(body);
            ErrorReply e = ErrorReply.decode(b);
            assertThat(b.readableBytes()).isZero();
            return e;
        }
    }

    @Test
    @Timeout(90)
    void donorSurvivesHostileClientsAndKeepsServingGoodOnes() throws Exception {
        long started = System.nanoTime();
        DonorProcess donor = DonorProcess.start(dir, "fuzz", "memory: 64M\nlockMemory: false\n");
        int exit;
        try {
            InetSocketAddress address = donor.address().toSocketAddress();
            Random random = new Random(SEED);

            // A good client stores pages before the attack; they must survive it.
            byte[][] keep = new byte[3][PAGE];
            try (GoodClient before = new GoodClient(address, "keeper")) {
                before.helloOk();
                before.expectOk(before.alloc(5, 8 * PAGE), Opcode.ALLOC_SLAB_OK);
                for (int i = 0; i < keep.length; i++) {
                    random.nextBytes(keep[i]);
                    before.expectOk(before.write(5, i, 1 + i, keep[i]), Opcode.WRITE_PAGES_OK);
                }
            }

            garbageOnFreshConnections(address, random);
            assertThat(donor.isAlive()).isTrue();

            hugeAnnouncedFrame(address);
            assertThat(donor.isAlive()).isTrue();

            mutatedFramesAfterHello(address, random);
            assertThat(donor.isAlive()).as("donor alive after the fuzz").isTrue();

            // The keeper's pages are intact.
            try (GoodClient after = new GoodClient(address, "keeper")) {
                after.helloOk();
                for (int i = 0; i < keep.length; i++) {
                    assertThat(after.readPage(5, i, 1 + i)).as("kept page %d", i).isEqualTo(keep[i]);
                }
            }
            // A brand-new good client is served: HELLO, ALLOC, WRITE, READ, with its data verified.
            try (GoodClient fresh = new GoodClient(address, "fresh-\u00e9")) {
                HelloOk ok = fresh.helloOk();
                assertThat(ok.pageSize()).isEqualTo(PAGE);
                assertThat(ok.maxFrameBytes()).isEqualTo(DONOR_MAX_FRAME);
                fresh.expectOk(fresh.alloc(1, PAGE), Opcode.ALLOC_SLAB_OK);
                byte[] page = new byte[PAGE];
                random.nextBytes(page);
                Reply ack = fresh.write(1, 0, 42, page);
                fresh.expectOk(ack, Opcode.WRITE_PAGES_OK);
                assertThat(PagesAck.decode(Unpooled.wrappedBuffer(ack.body()))).isEqualTo(new PagesAck(1, 1));
                assertThat(fresh.readPage(1, 0, 42)).isEqualTo(page);
            }
            assertThat(donor.isAlive()).isTrue();
        } finally {
            exit = donor.stop();
        }
        String log = Files.readString(donor.log());
        // Clean stop: SIGTERM closes the server, the shutdown runs to its end (the log line), and the exit is 0.
        assertThat(exit).as("exit code after SIGTERM; log:%n%s", tail(log)).isZero();
        assertThat(log).contains("valet-donor shutting down").contains("valet-donor stopped");
        assertThat(log).as("no handler failure other than protocol errors").doesNotContain("unexpected failure");
        assertThat(log).doesNotContain(" ERROR ");
        assertThat((System.nanoTime() - started) / 1_000_000).as("run time ms").isLessThan(60_000);
    }

    // --- the attacks ----------------------------------------------------------------------------------------

    private static void garbageOnFreshConnections(InetSocketAddress address, Random random) throws IOException {
        int badHeaders = 0;
        int answered = 0;
        for (int i = 0; i < 200; i++) {
            int size = switch (i % 4) {
                case 0 -> 1 + random.nextInt(15);          // not even a header
                case 1 -> 16 + random.nextInt(200);
                case 2 -> 16 + random.nextInt(8 * 1024);
                default -> 16 + random.nextInt(64 * 1024 - 16);
            };
            byte[] garbage = new byte[size];
            random.nextBytes(garbage);
            Exchange ex = exchange(address, garbage, true);
            String what = "garbage #" + i + " (" + size + " bytes)";
            assertThat(ex.end()).as("%s: the donor must close, not hang", what).isNotEqualTo(End.TIMEOUT);
            List<Reply> replies = decodeReplies(ex.received(), what);
            if (size < FrameHeader.SIZE) {
                assertThat(replies).as("%s: nothing to answer", what).isEmpty();
                continue;
            }
            ErrorCode headerError = headerError(garbage, 0);
            assertThat(headerError).as("random garbage with a valid header would be a miracle").isNotNull();
            badHeaders++;
            assertThat(replies).as("%s: at most the one fatal error", what).hasSizeLessThanOrEqualTo(1);
            if (!replies.isEmpty()) {
                answered++;
                assertThat(replies.get(0).requestId()).isZero();
                assertThat(replies.get(0).error().code()).isEqualTo(headerError);
            }
        }
        System.out.printf("garbage: %d bad headers, %d answered with an ERROR%n", badHeaders, answered);
        // The error frame is written before the close, so a reset on the way can only rarely beat it.
        assertThat(answered).as("bad headers answered with an ERROR").isGreaterThanOrEqualTo(badHeaders * 9 / 10);
    }

    private static void hugeAnnouncedFrame(InetSocketAddress address) throws IOException {
        byte[] header = Unpooled.buffer(FrameHeader.SIZE).writeInt((1 << 30) - FrameHeader.LENGTH_FIELD_SIZE)
                .writeShort(FrameHeader.MAGIC).writeByte(FrameHeader.VERSION).writeByte(Opcode.WRITE_PAGES.code())
                .writeLong(1).array();
        // No half-close: the donor must refuse on the header alone, not wait for a gigabyte.
        Exchange ex = exchange(address, header, false);
        assertThat(ex.end()).as("closed at once").isIn(End.EOF, End.RESET);
        List<Reply> replies = decodeReplies(ex.received(), "1 GiB header");
        assertThat(replies).hasSize(1);
        ErrorReply error = replies.get(0).error();
        assertThat(error.code()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(error.message()).contains("frame length " + (1 << 30));

        // The same after a HELLO.
        try (Socket s = connect(address)) {
            s.getOutputStream().write(frame(Opcode.HELLO, 1, new Hello(1, "greedy")));
            assertThat(readFrame(s.getInputStream()).opcode()).isEqualTo(Opcode.HELLO_OK);
            s.getOutputStream().write(header);
            Exchange rest = readToEnd(s, false);
            assertThat(rest.end()).isIn(End.EOF, End.RESET);
            assertThat(decodeReplies(rest.received(), "1 GiB header after HELLO")).singleElement()
                    .satisfies(r -> assertThat(r.error().code()).isEqualTo(ErrorCode.BAD_FRAME));
        }
    }

    private static void mutatedFramesAfterHello(InetSocketAddress address, Random random) throws IOException {
        int framesAnswered = 0;
        int fatalEnds = 0;
        for (int i = 0; i < 80; i++) {
            byte[] request = mutate(validRequest(i % 6, random), random);
            String what = "mutated #" + i;
            try (Socket s = connect(address)) {
                s.getOutputStream().write(frame(Opcode.HELLO, 1, new Hello(1, "fuzzer")));
                Reply hello = readFrame(s.getInputStream());
                assertThat(hello.opcode()).isEqualTo(Opcode.HELLO_OK);
                boolean writeFailed = false;
                try {
                    s.getOutputStream().write(request);
                    s.shutdownOutput();
                } catch (IOException e) {
                    writeFailed = true;
                }
                Exchange ex = readToEnd(s, writeFailed);
                assertThat(ex.end()).as("%s: the donor must close after our EOF", what).isNotEqualTo(End.TIMEOUT);
                List<Reply> replies = decodeReplies(ex.received(), what);
                Expected expected = parse(request);
                if (expected.fatal != null) {
                    fatalEnds++;
                }
                if (ex.end() == End.EOF && !ex.writeFailed()) {
                    // Clean end: exactly one reply per whole frame, plus the fatal error if a header broke.
                    assertThat(replies).as("%s replies", what)
                            .hasSize(expected.frames.size() + (expected.fatal != null ? 1 : 0));
                }
                for (int k = 0; k < replies.size(); k++) {
                    Reply r = replies.get(k);
                    if (k < expected.frames.size()) {
                        Reply req = expected.frames.get(k);
                        assertThat(r.requestId()).isEqualTo(req.requestId());
                        checkAnswer(req, r, what);
                        framesAnswered++;
                    } else {
                        assertThat(expected.fatal).as("%s: an extra reply means a broken header", what).isNotNull();
                        assertThat(r.requestId()).isZero();
                        assertThat(r.error().code()).isEqualTo(expected.fatal);
                    }
                }
            }
        }
        System.out.printf("mutated: %d frames answered, %d connections ended by a broken header%n", framesAnswered,
                fatalEnds);
        assertThat(framesAnswered).as("mutated frames that reached the handler").isGreaterThan(10);
        assertThat(fatalEnds).as("mutations that broke a header").isGreaterThan(5);
    }

    private static void checkAnswer(Reply request, Reply reply, String what) {
        Opcode op = request.opcode();
        if (reply.opcode() == Opcode.ERROR) {
            ErrorCode code = reply.error().code();
            if (op == null || op.isReply()) {
                assertThat(code).isEqualTo(ErrorCode.UNSUPPORTED_OPCODE);
            }
            return;
        }
        assertThat(op).as("%s: only requests succeed", what).isNotNull();
        assertThat(reply.opcode()).as("%s: success reply matches", what).isEqualTo(op.reply());
        ByteBuf req = Unpooled.wrappedBuffer(request.body());
        ByteBuf rep = Unpooled.wrappedBuffer(reply.body());
        switch (op) {
            case ALLOC_SLAB -> assertThat(SlabRef.decode(rep, "ALLOC_SLAB_OK").slabId())
                    .isEqualTo(SlabAlloc.decode(req).slabId());
            case FREE_SLAB -> assertThat(SlabRef.decode(rep, "FREE_SLAB_OK")).isEqualTo(SlabRef.decode(req, "x"));
            case WRITE_PAGES -> {
                PageBatch batch = new PageBatch().wrap(req, "WRITE_PAGES");
                assertThat(PagesAck.decode(rep)).isEqualTo(new PagesAck(batch.slabId(), batch.count()));
            }
            case READ_PAGES -> {
                PageIndexList wanted = new PageIndexList().wrap(req);
                PageBatch pages = new PageBatch().wrap(rep, "READ_PAGES_OK");
                assertThat(pages.count()).isEqualTo(wanted.count());
                for (int i = 0; i < pages.count(); i++) {
                    assertThat(pages.pageIndex(i)).isEqualTo(wanted.pageIndex(i));
                    assertThat(pages.checksumValid(i)).isTrue();
                }
            }
            case HEARTBEAT -> assertThat(Heartbeat.decode(rep)).isEqualTo(Heartbeat.decode(req));
            case STATS -> assertThat(rep.readableBytes()).isEqualTo(dev.valet.common.protocol.DonorStats.SIZE);
            case HELLO -> throw new AssertionError(what + ": a second HELLO succeeded");
            default -> throw new AssertionError(what + ": success reply to " + op);
        }
    }

    /** 0 ALLOC, 1 WRITE, 2 READ, 3 FREE, 4 HEARTBEAT, 5 STATS: valid, aimed at the fuzzer's slabs 0..3. */
    private static byte[] validRequest(int kind, Random r) {
        long id = 10 + r.nextInt(1000);
        return switch (kind) {
            case 0 -> frame(Opcode.ALLOC_SLAB, id, new SlabAlloc(r.nextInt(4), PAGE * (1L + r.nextInt(16))));
            case 1 -> {
                ByteBuf out = Unpooled.buffer();
                PageBatchEncoder enc = new PageBatchEncoder().begin(out, Opcode.WRITE_PAGES, id, r.nextInt(4));
                byte[] page = new byte[PAGE];
                for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                    r.nextBytes(page);
                    enc.add(r.nextInt(4), 1 + r.nextInt(9), PageChecksum.crc32c(page, 0), page, 0);
                }
                enc.finish();
                yield ByteBufUtil.getBytes(out);
            }
            case 2 -> {
                ByteBuf out = Unpooled.buffer();
                long[] idx = r.longs(1 + r.nextInt(8), 0, 4).toArray();
                PageIndexList.encode(out, id, r.nextInt(4), idx, idx.length);
                yield ByteBufUtil.getBytes(out);
            }
            case 3 -> frame(Opcode.FREE_SLAB, id, new SlabRef(r.nextInt(4)));
            case 4 -> frame(Opcode.HEARTBEAT, id, new Heartbeat(r.nextLong()));
            default -> {
                ByteBuf out = Unpooled.buffer();
                Frames.finish(out, Frames.begin(out, Opcode.STATS, id));
                yield ByteBufUtil.getBytes(out);
            }
        };
    }

    /** Flips bytes, truncates, appends garbage or overwrites a 4-byte word (often the length or a count). */
    private static byte[] mutate(byte[] s, Random r) {
        switch (r.nextInt(5)) {
            case 0 -> {
                for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                    s[r.nextInt(s.length)] ^= (byte) (1 + r.nextInt(255));
                }
                return s;
            }
            case 1 -> {
                return Arrays.copyOf(s, r.nextInt(s.length));
            }
            case 2 -> {
                byte[] tail = new byte[1 + r.nextInt(300)];
                r.nextBytes(tail);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(s);
                out.writeBytes(tail);
                return out.toByteArray();
            }
            case 3 -> {
                // The length field: anything from tiny to huge.
                int[] lengths = {0, 11, 12, s.length - 4 - 1, s.length - 4 + 1, DONOR_MAX_FRAME, Integer.MAX_VALUE,
                        r.nextInt()};
                Unpooled.wrappedBuffer(s).setInt(0, lengths[r.nextInt(lengths.length)]);
                return s;
            }
            default -> {
                // A word in the body: counts, page indexes, slab ids, versions, sizes.
                if (s.length >= FrameHeader.SIZE + 4) {
                    int at = FrameHeader.SIZE + r.nextInt(Math.min(s.length - FrameHeader.SIZE - 4, 40) + 1);
                    int[] values = {0, 1, -1, 4, 0x7FFF_FFFF, r.nextInt()};
                    Unpooled.wrappedBuffer(s).setInt(at, values[r.nextInt(values.length)]);
                }
                return s;
            }
        }
    }

    // --- a good client over a raw socket --------------------------------------------------------------------

    private static final class GoodClient implements AutoCloseable {
        private final Socket socket;
        private final String identity;
        private long nextId = 1;

        GoodClient(InetSocketAddress address, String identity) throws IOException {
            this.socket = connect(address);
            this.identity = identity;
        }

        Reply call(byte[] request) throws IOException {
            long id = Unpooled.wrappedBuffer(request).getLong(FrameHeader.REQUEST_ID_OFFSET);
            socket.getOutputStream().write(request);
            Reply r = readFrame(socket.getInputStream());
            assertThat(r.requestId()).isEqualTo(id);
            return r;
        }

        HelloOk helloOk() throws IOException {
            Reply r = call(frame(Opcode.HELLO, nextId++, new Hello(1, identity)));
            expectOk(r, Opcode.HELLO_OK);
            return HelloOk.decode(Unpooled.wrappedBuffer(r.body()));
        }

        Reply alloc(long slabId, long bytes) throws IOException {
            return call(frame(Opcode.ALLOC_SLAB, nextId++, new SlabAlloc(slabId, bytes)));
        }

        Reply write(long slabId, long index, long version, byte[] data) throws IOException {
            ByteBuf out = Unpooled.buffer(PageBatchEncoder.frameSize(1));
            new PageBatchEncoder().begin(out, Opcode.WRITE_PAGES, nextId++, slabId)
                    .add(index, version, PageChecksum.crc32c(data, 0), data, 0).finish();
            return call(ByteBufUtil.getBytes(out));
        }

        byte[] readPage(long slabId, long index, long expectedVersion) throws IOException {
            ByteBuf out = Unpooled.buffer();
            PageIndexList.encode(out, nextId++, slabId, new long[] {index}, 1);
            Reply r = call(ByteBufUtil.getBytes(out));
            expectOk(r, Opcode.READ_PAGES_OK);
            PageBatch batch = new PageBatch().wrap(Unpooled.wrappedBuffer(r.body()), "READ_PAGES_OK");
            assertThat(batch.slabId()).isEqualTo(slabId);
            assertThat(batch.count()).isEqualTo(1);
            assertThat(batch.pageIndex(0)).isEqualTo(index);
            assertThat(batch.version(0)).isEqualTo(expectedVersion);
            assertThat(batch.checksumValid(0)).isTrue();
            return ByteBufUtil.getBytes(batch.buffer(), batch.dataIndex(0), PAGE);
        }

        void expectOk(Reply r, Opcode op) {
            if (r.opcode() == Opcode.ERROR) {
                throw new AssertionError("expected " + op + ", got " + r.error());
            }
            assertThat(r.opcode()).isEqualTo(op);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    // --- sockets and frames ---------------------------------------------------------------------------------

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, TIMEOUT_MS);
        s.setSoTimeout(TIMEOUT_MS);
        s.setTcpNoDelay(true);
        return s;
    }

    /** Sends {@code bytes} on a fresh connection (then half-closes if asked) and reads until the donor is done. */
    private static Exchange exchange(InetSocketAddress address, byte[] bytes, boolean halfClose) throws IOException {
        try (Socket s = connect(address)) {
            boolean writeFailed = false;
            try {
                s.getOutputStream().write(bytes);
                if (halfClose) {
                    s.shutdownOutput();
                }
            } catch (IOException e) {
                writeFailed = true; // the donor closed first: what it said is still in our receive buffer
            }
            return readToEnd(s, writeFailed);
        }
    }

    private static Exchange readToEnd(Socket s, boolean writeFailed) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        InputStream in = s.getInputStream();
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                got.write(buf, 0, n);
            }
            return new Exchange(got.toByteArray(), End.EOF, writeFailed);
        } catch (SocketTimeoutException e) {
            return new Exchange(got.toByteArray(), End.TIMEOUT, writeFailed);
        } catch (SocketException e) {
            return new Exchange(got.toByteArray(), End.RESET, writeFailed);
        }
    }

    private static Reply readFrame(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        int length = data.readInt();
        assertThat(length).isBetween(FrameHeader.SIZE - 4, DONOR_MAX_FRAME - 4);
        byte[] rest = new byte[length];
        data.readFully(rest);
        ByteBuf h = Unpooled.wrappedBuffer(rest);
        assertThat(h.readShort()).isEqualTo(FrameHeader.MAGIC);
        assertThat(h.readByte()).isEqualTo(FrameHeader.VERSION);
        int opcode = h.readUnsignedByte();
        long id = h.readLong();
        return new Reply(opcode, id, ByteBufUtil.getBytes(h));
    }

    /** Cuts received bytes into frames with the real decoder: a malformed reply fails the test. */
    private static List<Reply> decodeReplies(byte[] bytes, String what) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(DONOR_MAX_FRAME));
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        ch.checkException();
        List<Reply> replies = new ArrayList<>();
        int consumed = 0;
        for (Object o; (o = ch.readInbound()) != null; ) {
            Frame f = (Frame) o;
            replies.add(new Reply(f.opcodeCode(), f.requestId(), ByteBufUtil.getBytes(f.body())));
            consumed += FrameHeader.SIZE + f.body().readableBytes();
            f.release();
        }
        ch.finishAndReleaseAll();
        assertThat(consumed).as("%s: the donor sent only whole frames", what).isEqualTo(bytes.length);
        for (Reply r : replies) {
            assertThat(r.opcode()).as("%s: reply opcode", what).isNotNull();
            assertThat(r.opcode().isReply()).isTrue();
            if (r.opcode() == Opcode.ERROR) {
                r.error();
            }
        }
        return replies;
    }

    record Expected(List<Reply> frames, ErrorCode fatal) {
    }

    /** The frames the donor must see in {@code s}, and the fatal header error it ends with, if any. */
    private static Expected parse(byte[] s) {
        List<Reply> frames = new ArrayList<>();
        int at = 0;
        while (s.length - at >= FrameHeader.SIZE) {
            ErrorCode error = headerError(s, at);
            if (error != null) {
                return new Expected(frames, error);
            }
            long total = Unpooled.wrappedBuffer(s).getUnsignedInt(at) + 4;
            if (s.length - at < total) {
                break;
            }
            ByteBuf h = Unpooled.wrappedBuffer(s, at, (int) total);
            h.skipBytes(7);
            int opcode = h.readUnsignedByte();
            long id = h.readLong();
            frames.add(new Reply(opcode, id, ByteBufUtil.getBytes(h)));
            at += (int) total;
        }
        return new Expected(frames, null);
    }

    /** Why the 16-byte header at {@code at} is fatal for the donor, or null if it is fine. */
    private static ErrorCode headerError(byte[] s, int at) {
        ByteBuf h = Unpooled.wrappedBuffer(s, at, FrameHeader.SIZE);
        long total = h.readUnsignedInt() + 4;
        if (h.readUnsignedShort() != 0x564C) {
            return ErrorCode.BAD_FRAME;
        }
        if (h.readUnsignedByte() != 1) {
            return ErrorCode.UNSUPPORTED_VERSION;
        }
        return total < FrameHeader.SIZE || total > DONOR_MAX_FRAME ? ErrorCode.BAD_FRAME : null;
    }

    private static byte[] frame(Opcode op, long id, MessageBody body) {
        ByteBuf b = Frames.encode(UnpooledByteBufAllocator.DEFAULT, op, id, body);
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }

    private static String tail(String log) {
        String[] lines = log.split("\n");
        return String.join("\n", Arrays.copyOfRange(lines, Math.max(0, lines.length - 30), lines.length));
    }
}
