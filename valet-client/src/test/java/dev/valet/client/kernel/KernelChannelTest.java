package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.netlink.FamilyNotFoundException;
import dev.valet.client.netlink.GenericNetlink;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkErrnoException;
import dev.valet.common.testing.Await;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The whole channel against a simulated driver ({@link FakeKernel}) and an in-memory page store. */
class KernelChannelTest {
    private static final long DEVICE = 4L << 20;
    /** The data area the channel asks CREATE for. */
    private static final long AREA = 2L << 20;

    private final FakeKernel kernel = new FakeKernel();
    private final MemoryStore store = new MemoryStore(DEVICE);
    private KernelChannel channel;

    /** Pages in a byte array, completed on another thread as the engine's event loops would. */
    static final class MemoryStore implements PageStore {
        final byte[] bytes;
        final ExecutorService engineThreads = Executors.newFixedThreadPool(2);
        volatile boolean failing;
        volatile CountDownLatch gate;
        final AtomicInteger writeCalls = new AtomicInteger();
        final AtomicInteger readCalls = new AtomicInteger();
        volatile ByteBuf lastWriteSource;
        volatile int lastWriteIndex = -1;

        MemoryStore(long size) {
            bytes = new byte[(int) size];
        }

        @Override
        public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
            writeCalls.incrementAndGet();
            lastWriteSource = src;
            lastWriteIndex = srcIndex;
            CompletableFuture.runAsync(() -> {
                await();
                if (failing) {
                    throw new IllegalStateException("no donor stored it");
                }
                src.getBytes(srcIndex, bytes, (int) firstPage * 4096, count * 4096);
            }, engineThreads).whenComplete((ok, err) -> done.pageIoDone(err));
        }

        @Override
        public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
            readCalls.incrementAndGet();
            CompletableFuture.runAsync(() -> {
                await();
                if (failing) {
                    throw new IllegalStateException("no copy answered");
                }
                dst.setBytes(dstIndex, bytes, (int) firstPage * 4096, count * 4096);
            }, engineThreads).whenComplete((ok, err) -> done.pageIoDone(err));
        }

        private void await() {
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private KernelChannel open(int queueDepth, int hardwareQueues) throws IOException {
        ValetControl control = ValetControl.open(new GenericNetlink(kernel.control));
        channel = KernelChannel.open(store, new KernelChannel.Settings(DEVICE, queueDepth, Duration.ofSeconds(60),
                Duration.ofSeconds(30), AREA, hardwareQueues), control, kernel.data, null, kernel.mapper(), null);
        return channel;
    }

    private KernelChannel open() throws IOException {
        return open(16, 2);
    }

    @AfterEach
    void closeChannel() {
        if (channel != null) {
            channel.close();
        }
        store.engineThreads.shutdownNow();
    }

    private List<FakeKernel.Cpl> completions(int count) throws InterruptedException {
        return kernel.completions(count);
    }

    private static Map<Long, FakeKernel.Cpl> byCookie(List<FakeKernel.Cpl> cpls) {
        Map<Long, FakeKernel.Cpl> map = new HashMap<>();
        for (FakeKernel.Cpl c : cpls) {
            assertThat(map.put(c.cookie(), c)).as("cookie %d answered once", c.cookie()).isNull();
        }
        return map;
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 7 + seed * 13 + i / 4096);
        }
        return b;
    }

    @SuppressWarnings("unchecked")
    private static Consumer<MessageWriter>[] array(List<Consumer<MessageWriter>> requests) {
        return requests.toArray(Consumer[]::new);
    }

    @Test
    void createsTheDeviceAfterAttachingWithTheConfiguredSettingsAndMapsItsArea() throws Exception {
        open(32, 3);

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH",
                "CREATE size=" + DEVICE + " depth=32 hold=60000 timeout=30000 data=" + AREA);
        assertThat(channel.deviceIndex()).isZero();
        assertThat(channel.devicePath()).isEqualTo("/dev/valet0");
        assertThat(channel.deviceBytes()).isEqualTo(DEVICE);
        assertThat(channel.dataBytes()).isEqualTo(AREA);
        assertThat(kernel.mapped).as("the area CREATE made, mapped once").containsExactly("0:" + AREA);
        assertThat(channel.slots()).isEqualTo(32 * 3);
        assertThat(channel.preallocatedBytes()).isGreaterThanOrEqualTo(RequestReceiver.RECEIVE_BUFFER_BYTES
                + CompletionSender.SEND_BUFFER_BYTES).isLessThan(1L << 20);
        assertThat(kernel.attachedTo).isSameAs(kernel.data);
    }

    @Test
    void writesThenReadsReturnTheWrittenDataThroughTheDataArea() throws Exception {
        open();
        byte[] first = pattern(8192, 1);
        byte[] second = pattern(65536, 2);
        kernel.place(0, 0, first);
        kernel.place(0, 65536, second);
        kernel.sendIo(FakeKernel.io(FakeKernel.write(1, 0, 8192, 0), FakeKernel.write(2, 65536, 65536, 65536)));
        Map<Long, FakeKernel.Cpl> written = byCookie(completions(2));
        assertThat(written.get(1L).status()).isZero();
        assertThat(written.get(2L).status()).isZero();
        assertThat(written.get(1L).data()).as("a write's completion has nothing to pick up").isNull();
        assertThat(store.lastWriteSource).as("the engine reads the driver's area itself: no copy")
                .isSameAs(kernel.areas.get(0).buffer());
        assertThat(store.lastWriteIndex).isIn(0, 65536);

        kernel.sendIo(FakeKernel.io(FakeKernel.read(3, 0, 8192, 131072), FakeKernel.read(4, 65536, 65536, 262144),
                FakeKernel.read(5, 4096, 4096, 393216)));
        Map<Long, FakeKernel.Cpl> read = byCookie(completions(3));

        assertThat(read.get(3L).status()).isZero();
        assertThat(read.get(3L).data()).isEqualTo(first);
        assertThat(read.get(4L).data()).isEqualTo(second);
        assertThat(read.get(5L).data()).isEqualTo(Arrays.copyOfRange(first, 4096, 8192));
        KernelChannel.Stats stats = channel.stats();
        assertThat(stats.reads()).isEqualTo(3);
        assertThat(stats.writes()).isEqualTo(2);
        assertThat(stats.completions()).isEqualTo(5);
    }

    @Test
    void aHalfMebibyteWriteThenReadRoundTrips() throws Exception {
        open();
        int max = ValetGenl.MAX_IO_BYTES;
        byte[] data = pattern(max, 5);
        kernel.place(0, AREA - max, data);
        kernel.sendIo(FakeKernel.io(FakeKernel.write(1, 1 << 20, max, AREA - max)));
        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(1, 0, null));
        assertThat(Arrays.copyOfRange(store.bytes, 1 << 20, (1 << 20) + max)).isEqualTo(data);

        kernel.sendIo(FakeKernel.io(FakeKernel.read(2, 1 << 20, max, 0)));

        FakeKernel.Cpl read = completions(1).get(0);
        assertThat(read.status()).isZero();
        assertThat(read.data()).isEqualTo(data);
        assertThat(max).isEqualTo(512 * 1024);
    }

    @Test
    void aCompletionCarriesOnlyCookieAndStatus() throws Exception {
        open();
        kernel.place(0, 0, pattern(ValetGenl.MAX_IO_BYTES, 9));
        kernel.sendIo(FakeKernel.io(FakeKernel.write(1, 0, ValetGenl.MAX_IO_BYTES, 0)));
        completions(1);
        store.failing = true;
        kernel.sendIo(FakeKernel.io(FakeKernel.read(3, 0, 4096, 0)));
        completions(1);
        store.failing = false;

        kernel.sendIo(FakeKernel.io(FakeKernel.read(2, 0, ValetGenl.MAX_IO_BYTES, ValetGenl.MAX_IO_BYTES),
                FakeKernel.flush(4), FakeKernel.read(5, DEVICE, 4096, 0)));
        Map<Long, FakeKernel.Cpl> cpls = byCookie(completions(3));

        assertThat(cpls.get(2L).data()).as("the read's data, from the area").hasSize(ValetGenl.MAX_IO_BYTES);
        assertThat(kernel.cplTypes).containsOnly(ValetGenl.CPL_COOKIE, ValetGenl.CPL_STATUS);
        assertThat(kernel.largestCpl.get()).as("COOKIE (12 bytes) and STATUS (8), nothing else").isEqualTo(20);
        assertThat(CompletionSender.CPL_BYTES).isEqualTo(24);
    }

    @Test
    void flushIsAnsweredAtOnceWithoutTheStore() throws Exception {
        open();
        store.gate = new CountDownLatch(1); // the store would hang

        kernel.sendIo(FakeKernel.io(FakeKernel.flush(77)));

        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(77, 0, null));
        assertThat(channel.stats().flushes()).isEqualTo(1);
        store.gate.countDown();
    }

    @Test
    void invalidRequestsAreAnsweredWithEinvalOrEopnotsupp() throws Exception {
        open();
        kernel.sendIo(FakeKernel.io(
                FakeKernel.read(1, 512, 4096, 0),                     // offset not a multiple of 4096
                FakeKernel.read(2, 0, 1000, 0),                       // length not a multiple of 4096
                FakeKernel.read(3, DEVICE - 4096, 8192, 0),           // past the end of the device
                FakeKernel.read(4, DEVICE, 4096, 0),                  // starts at the end
                FakeKernel.read(5, 0, ValetGenl.MAX_IO_BYTES * 2, 0), // longer than the driver may send
                FakeKernel.read(6, 0, 0, 0),                          // empty
                w -> FakeKernel.write(7, 0, 4096, 8192).accept(w.putU32(ValetGenl.REQ_PAD, 0)),
                w -> w.putU64(ValetGenl.REQ_COOKIE, 8).putU8(ValetGenl.REQ_OP, ValetGenl.OP_WRITE)
                        .putU64(ValetGenl.REQ_OFFSET, 0).putU32(ValetGenl.REQ_LENGTH, 8192), // write without BUF
                w -> w.putU64(ValetGenl.REQ_COOKIE, 9).putU8(ValetGenl.REQ_OP, 7)
                        .putU64(ValetGenl.REQ_OFFSET, 0).putU32(ValetGenl.REQ_LENGTH, 4096), // unknown op
                w -> w.putU64(ValetGenl.REQ_COOKIE, 10),                                   // no op
                FakeKernel.read(11, DEVICE - 4096, 4096, 4096)));     // the last page: fine

        Map<Long, FakeKernel.Cpl> cpls = byCookie(completions(11));

        for (long cookie = 1; cookie <= 10; cookie++) {
            int expected = cookie == 7 ? 0 : cookie == 9 ? -Netlink.EOPNOTSUPP : -Netlink.EINVAL;
            assertThat(cpls.get(cookie).status()).as("cookie %d", cookie).isEqualTo(expected);
            assertThat(cpls.get(cookie).data()).isNull();
        }
        assertThat(cpls.get(11L).status()).isZero();
        assertThat(cpls.get(11L).data()).hasSize(4096);
        assertThat(channel.stats().invalid()).isEqualTo(9);
    }

    @Test
    void bufMissingUnalignedOrPastTheAreaIsEinvalAndNothingIsStored() throws Exception {
        open();
        kernel.place(0, 0, pattern((int) AREA, 3));
        kernel.sendIo(FakeKernel.io(
                w -> w.putU64(ValetGenl.REQ_COOKIE, 1).putU8(ValetGenl.REQ_OP, ValetGenl.OP_WRITE)
                        .putU64(ValetGenl.REQ_OFFSET, 0).putU32(ValetGenl.REQ_LENGTH, 4096), // no BUF
                FakeKernel.write(2, 0, 4096, 100),                    // BUF not a multiple of 4096
                FakeKernel.write(3, 0, 8192, AREA - 4096),            // runs past the area
                FakeKernel.write(4, 0, 4096, AREA),                   // starts at its end
                FakeKernel.write(5, 0, 4096, 0xfffff000L),            // the largest u32 BUF
                w -> w.putU64(ValetGenl.REQ_COOKIE, 6).putU8(ValetGenl.REQ_OP, ValetGenl.OP_READ)
                        .putU64(ValetGenl.REQ_OFFSET, 0).putU32(ValetGenl.REQ_LENGTH, 4096), // no BUF
                FakeKernel.read(7, 0, ValetGenl.MAX_IO_BYTES, AREA - ValetGenl.MAX_IO_BYTES + 4096)));

        assertThat(byCookie(completions(7)).values()).allSatisfy(c -> {
            assertThat(c.status()).as("cookie %d", c.cookie()).isEqualTo(-Netlink.EINVAL);
            assertThat(c.data()).isNull();
        });
        assertThat(store.writeCalls.get()).isZero();
        assertThat(store.readCalls.get()).isZero();
        assertThat(store.bytes).as("nothing stored").isEqualTo(new byte[(int) DEVICE]);
        KernelChannel.Stats stats = channel.stats();
        assertThat(stats.invalid()).isEqualTo(7);
        assertThat(stats.reads() + stats.writes()).isZero();

        kernel.sendIo(FakeKernel.io(FakeKernel.write(8, 0, 4096, AREA - 4096))); // the area's last block: fine
        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(8, 0, null));
    }

    @Test
    void ioThatArrivesBeforeCreateAnswersMapsTheAreaLazily() throws Exception {
        byte[] label = pattern(4096, 8);
        System.arraycopy(label, 0, store.bytes, 0, 4096);
        // The kernel reads a new disk (partition scan) before CREATE returns: the IO names the device by INDEX.
        kernel.ioDuringCreate = FakeKernel.ioFor(0, FakeKernel.read(9, 0, 4096, 8192));

        open();

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH",
                "CREATE size=" + DEVICE + " depth=16 hold=60000 timeout=30000 data=" + AREA);
        FakeKernel.Cpl scan = completions(1).get(0);
        assertThat(scan.cookie()).isEqualTo(9);
        assertThat(scan.status()).isZero();
        assertThat(scan.data()).isEqualTo(label);
        assertThat(kernel.mapped).as("mapped by the request, with the size asked for; open used that mapping")
                .containsExactly("0:" + AREA);
        kernel.place(0, 0, pattern(4096, 1));
        kernel.sendIo(FakeKernel.io(FakeKernel.write(10, 4096, 4096, 0)));
        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(10, 0, null));
        assertThat(kernel.mapped).hasSize(1);
    }

    @Test
    void aDataAreaTheDriverRefusesFailsTheStartAndDetaches() {
        kernel.mapError = new IOException("cannot map the data area of /dev/valet0 from /dev/valet-data: mmap"
                + " failed: Operation not permitted (errno 1): only the attached daemon may map the data area");

        assertThatThrownBy(this::open).isInstanceOf(IOException.class)
                .hasMessageContaining("only the attached daemon may map the data area");
        assertThat(kernel.commands).contains("ATTACH").last().isEqualTo("DETACH");
        assertThat(kernel.attachedTo).isNull();
    }

    @Test
    void requestsOfAnotherDeviceAreRefusedWithEio() throws Exception {
        open();
        kernel.sendIo(FakeKernel.ioFor(0, FakeKernel.read(1, 0, 4096, 0)));
        assertThat(completions(1)).singleElement().satisfies(c -> assertThat(c.status()).isZero());

        kernel.sendIo(FakeKernel.ioFor(1, FakeKernel.read(2, 0, 4096, 0), FakeKernel.flush(3)));

        assertThat(byCookie(completions(2)).values()).extracting(FakeKernel.Cpl::status).containsOnly(-Netlink.EIO);
    }

    @Test
    void storeFailuresAreAnsweredWithEio() throws Exception {
        open();
        store.failing = true;

        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, 4096, 0), FakeKernel.write(2, 0, 4096, 4096)));

        assertThat(byCookie(completions(2)).values()).extracting(FakeKernel.Cpl::status)
                .containsOnly(-Netlink.EIO);
        assertThat(channel.stats().failed()).isEqualTo(2);
    }

    @Test
    void storeThatThrowsAtOnceIsAnEioToo() throws Exception {
        ValetControl control = ValetControl.open(new GenericNetlink(kernel.control));
        PageStore broken = new PageStore() {
            @Override
            public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
                throw new IllegalStateException("engine closed");
            }

            @Override
            public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
                throw new IllegalStateException("engine closed");
            }
        };
        channel = KernelChannel.open(broken, new KernelChannel.Settings(DEVICE, 4, Duration.ofSeconds(1),
                Duration.ofSeconds(1), AREA, 1), control, kernel.data, null, kernel.mapper(), null);

        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, 4096, 0)));

        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(1, -Netlink.EIO, null));
    }

    @Test
    void completionsThatAreReadyTogetherShareOneDoneMessage() throws Exception {
        open();
        kernel.doneGate = new CountDownLatch(1);
        kernel.sendIo(FakeKernel.io(FakeKernel.flush(0)));
        assertThat(kernel.doneBlocked.await(10, TimeUnit.SECONDS)).isTrue(); // the sender is stuck sending it
        List<Consumer<MessageWriter>> flushes = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            flushes.add(FakeKernel.flush(i));
        }
        kernel.sendIo(FakeKernel.io(array(flushes)));
        Await.until("21 flushes taken", Duration.ofSeconds(10), () -> channel.stats().flushes() == 21);

        kernel.doneGate.countDown();

        assertThat(kernel.doneMessages.poll(10, TimeUnit.SECONDS)).hasSize(1);
        List<FakeKernel.Cpl> batch = kernel.doneMessages.poll(10, TimeUnit.SECONDS);
        assertThat(batch).hasSize(20);
        assertThat(batch).extracting(FakeKernel.Cpl::cookie).as("oldest first")
                .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L,
                        20L);
        assertThat(kernel.doneCount.get()).isEqualTo(2);
    }

    @Test
    void completionsBeyondOneDoneMessageGoInTheNext() throws Exception {
        int perMessage = (CompletionSender.SEND_BUFFER_BYTES - 20) / CompletionSender.CPL_BYTES;
        int total = perMessage + 30;
        open(total + 1, 1); // a slot for each, and for the flush whose DONE is stuck
        kernel.doneGate = new CountDownLatch(1);
        kernel.sendIo(FakeKernel.io(FakeKernel.flush(0)));
        assertThat(kernel.doneBlocked.await(10, TimeUnit.SECONDS)).isTrue();
        for (int from = 1; from <= total; from += 32) { // the driver's IO messages hold at most 32 requests
            List<Consumer<MessageWriter>> flushes = new ArrayList<>();
            for (int i = from; i < from + 32 && i <= total; i++) {
                flushes.add(FakeKernel.flush(i));
            }
            kernel.sendIo(FakeKernel.io(array(flushes)));
        }
        Await.until("every flush taken", Duration.ofSeconds(10), () -> channel.stats().flushes() == total + 1);

        kernel.doneGate.countDown();

        assertThat(kernel.doneMessages.poll(10, TimeUnit.SECONDS)).hasSize(1);
        assertThat(perMessage).as("a DONE within NLMSG_GOODSIZE (3776 bytes with 4 KiB pages)").isEqualTo(148);
        assertThat(kernel.doneMessages.poll(10, TimeUnit.SECONDS)).as("as many as fit").hasSize(perMessage);
        assertThat(kernel.doneMessages.poll(10, TimeUnit.SECONDS)).as("the rest").hasSize(30);
        assertThat(kernel.largestDone.get()).isLessThanOrEqualTo(3776);
    }

    @Test
    void moreRequestsThanSlotsWaitForSlotsInsteadOfFailing() throws Exception {
        open(2, 1); // two slots
        store.gate = new CountDownLatch(1);
        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, 4096, 0), FakeKernel.read(2, 4096, 4096, 4096),
                FakeKernel.read(3, 8192, 4096, 8192), FakeKernel.read(4, 12288, 4096, 12288)));
        Await.until("a request waiting for a slot", Duration.ofSeconds(10), () -> channel.stats().slotWaits() > 0);
        assertThat(channel.stats().slotWaits()).isEqualTo(1);

        store.gate.countDown();

        assertThat(byCookie(completions(4)).values()).extracting(FakeKernel.Cpl::status).containsOnly(0);
    }

    @Test
    void malformedIoMessageIsDroppedWholeAndTheNextIsServed() throws Exception {
        open();
        byte[] bad = FakeKernel.datagram(FakeKernel.io(FakeKernel.flush(1), FakeKernel.flush(2)));
        // Second REQ's COOKIE claims 200 bytes: runs past its nest. Nothing of this message may be served.
        int secondReq = 16 + 4 + 4 + 12 + 8; // nlmsghdr, genlmsghdr, first REQ (header, cookie, op)
        java.nio.ByteBuffer.wrap(bad).order(java.nio.ByteOrder.nativeOrder()).putShort(secondReq + 4, (short) 200);
        kernel.data.deliver(bad);
        kernel.sendIo(FakeKernel.io(FakeKernel.flush(3)));

        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(3, 0, null));
        assertThat(channel.stats().malformed()).isEqualTo(1);
        assertThat(channel.stats().requests()).isEqualTo(1);
        assertThat(kernel.doneMessages.poll(100, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void requestWithoutCookieIsDroppedAndCounted() throws Exception {
        open();
        kernel.sendIo(FakeKernel.io(w -> w.putU8(ValetGenl.REQ_OP, ValetGenl.OP_FLUSH), FakeKernel.flush(5)));

        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(5, 0, null));
        assertThat(channel.stats().malformed()).isEqualTo(1);
    }

    @Test
    void servesAnExistingDeviceWithItsOwnDataAreaAndTheRequestsHeldForIt() throws Exception {
        long ownArea = 1L << 20;
        kernel.addDevice(FakeKernel.device(3, DEVICE, 64, ownArea, false, 1));
        byte[] page = pattern(4096, 4);
        System.arraycopy(page, 0, store.bytes, 0, 4096);
        kernel.hold(FakeKernel.ioFor(3, FakeKernel.read(42, 0, 4096, ownArea - 4096)));

        open(16, 2);

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH");
        assertThat(channel.deviceIndex()).isEqualTo(3);
        assertThat(channel.dataBytes()).as("the device's DATA_BYTES, not valet.yaml's").isEqualTo(ownArea);
        assertThat(kernel.mapped).containsExactly("3:" + ownArea);
        assertThat(channel.slots()).as("sized for the device's own queue depth").isEqualTo(64 * 2);
        assertThat(completions(1)).singleElement().satisfies(c -> {
            assertThat(c.cookie()).isEqualTo(42);
            assertThat(c.status()).isZero();
            assertThat(c.data()).isEqualTo(page);
        });
    }

    @Test
    void existingDeviceOfAnotherSizeIsRefusedWithAdvice() {
        kernel.addDevice(FakeKernel.device(0, DEVICE * 2, 64, AREA, false, 0));

        assertThatThrownBy(this::open).hasMessage("/dev/valet0 exists with " + DEVICE * 2 + " bytes, but swapSpace is "
                + DEVICE + " bytes: set swapSpace to " + DEVICE * 2 + " to serve it (it may hold swapped pages), or"
                + " swapoff it and unload the module (setup/module.sh unload)");
        assertThat(kernel.commands).doesNotContain("ATTACH");
    }

    @Test
    void deviceWithADaemonAttachedIsRefused() {
        kernel.addDevice(FakeKernel.device(0, DEVICE, 64, AREA, true, 0));

        assertThatThrownBy(this::open).hasMessageContaining("/dev/valet0 already has a daemon attached");
    }

    @Test
    void severalDevicesAreRefused() {
        kernel.addDevice(FakeKernel.device(0, DEVICE, 64, AREA, false, 0));
        kernel.addDevice(FakeKernel.device(1, DEVICE, 64, AREA, false, 0));

        assertThatThrownBy(this::open).hasMessageStartingWith("2 valet devices exist (/dev/valet0, /dev/valet1)");
    }

    @Test
    void refusedAttachSaysWhy() {
        kernel.attachError = Netlink.EPERM;

        assertThatThrownBy(this::open).isInstanceOfSatisfying(NetlinkErrnoException.class,
                        e -> assertThat(e.errno()).isEqualTo(Netlink.EPERM))
                .hasMessage("ATTACH failed: Operation not permitted (errno 1) (the kernel says: refused by the test):"
                        + " the daemon needs CAP_SYS_ADMIN (run it as root)");
        assertThat(kernel.commands).doesNotContain("DETACH");
    }

    @Test
    void attachRefusedByADriverOfAnotherVersionSaysWhichModuleToLoad() {
        kernel.driverVersion = 1;

        assertThatThrownBy(this::open).isInstanceOfSatisfying(NetlinkErrnoException.class,
                        e -> assertThat(e.errno()).isEqualTo(Netlink.EPROTO))
                .hasMessage("ATTACH failed: Protocol error (errno 71) (the kernel says: valet: ATTACH of VALET version"
                        + " 3, this driver speaks version 1): the loaded valet.ko speaks another VALET version than"
                        + " this daemon's 3: load the module built from this checkout (swapoff its devices, then"
                        + " setup/module.sh unload && setup/module.sh build && setup/module.sh load)");
        assertThat(kernel.commands).doesNotContain("DETACH").noneMatch(c -> c.startsWith("CREATE"));
    }

    @Test
    void aFamilyOfAnotherVersionIsRefusedBeforeAttach() {
        kernel.familyVersion = 1;

        assertThatThrownBy(this::open).isInstanceOfSatisfying(NetlinkErrnoException.class,
                        e -> assertThat(e.errno()).isEqualTo(Netlink.EPROTO))
                .hasMessage("the loaded valet.ko speaks VALET version 1, this daemon speaks version 3: load the"
                        + " module built from this checkout (swapoff its devices, then setup/module.sh unload &&"
                        + " setup/module.sh build && setup/module.sh load)");
        assertThat(kernel.commands).isEmpty();
        assertThat(kernel.control.closed).isTrue();
    }

    @Test
    void missingModuleIsTheClearMessage() {
        kernel.familyLoaded = false;

        assertThatThrownBy(this::open).isInstanceOf(FamilyNotFoundException.class)
                .hasMessage("generic netlink family VALET not found: is valet.ko loaded? (setup/module.sh load)");
    }

    @Test
    void closeDetachesStopsAndUnmapsTheArea() throws Exception {
        open();
        kernel.sendIo(FakeKernel.io(FakeKernel.flush(1)));
        completions(1);
        assertThat(kernel.unmapped.get()).isZero();

        channel.close();

        assertThat(kernel.commands).endsWith("DETACH");
        assertThat(kernel.attachedTo).isNull();
        assertThat(kernel.data.closed).isTrue();
        assertThat(kernel.control.closed).isTrue();
        assertThat(kernel.unmapped.get()).isEqualTo(1);
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .doesNotContain("valet-kernel-rx", "valet-kernel-tx");
        assertThat(channel.failure()).isNotDone();
        channel.close(); // twice is fine
        assertThat(kernel.unmapped.get()).isEqualTo(1);
    }

    @Test
    void settingsComeFromValetYaml() {
        var config = dev.valet.common.config.ClientConfig.defaults();
        KernelChannel.Settings s = KernelChannel.Settings.from(config);

        assertThat(s.deviceBytes()).isEqualTo(8L << 30);
        assertThat(s.queueDepth()).isEqualTo(256);
        assertThat(s.holdTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.ioTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.dataBytes()).isEqualTo(ValetGenl.DEF_DATA_BYTES);
        assertThat(s.slotsFor(256)).isEqualTo(256 * s.hardwareQueues());
        assertThatThrownBy(() -> new KernelChannel.Settings(DEVICE, 1, Duration.ofSeconds(1), Duration.ofSeconds(1),
                ValetGenl.MIN_DATA_BYTES - 4096, 1)).hasMessageContaining("data area of 520192 bytes");
    }
}
