package dev.valet.client.kernel;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The whole channel against a simulated driver ({@link FakeKernel}) and an in-memory page store. */
class KernelChannelTest {
    private static final long DEVICE = 4L << 20;

    private final FakeKernel kernel = new FakeKernel();
    private final MemoryStore store = new MemoryStore(DEVICE);
    private KernelChannel channel;

    /** Pages in a byte array, completed on another thread as the engine's event loops would. */
    static final class MemoryStore implements PageStore {
        final byte[] bytes;
        final ExecutorService engineThreads = Executors.newFixedThreadPool(2);
        volatile boolean failing;
        volatile CountDownLatch gate;

        MemoryStore(long size) {
            bytes = new byte[(int) size];
        }

        @Override
        public CompletableFuture<Void> write(long firstPage, int count, ByteBuf src, int srcIndex) {
            return CompletableFuture.runAsync(() -> {
                await();
                if (failing) {
                    throw new IllegalStateException("no donor stored it");
                }
                src.getBytes(srcIndex, bytes, (int) firstPage * 4096, count * 4096);
            }, engineThreads);
        }

        @Override
        public CompletableFuture<Void> read(long firstPage, int count, ByteBuf dst, int dstIndex) {
            return CompletableFuture.runAsync(() -> {
                await();
                if (failing) {
                    throw new IllegalStateException("no copy answered");
                }
                dst.setBytes(dstIndex, bytes, (int) firstPage * 4096, count * 4096);
            }, engineThreads);
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
                Duration.ofSeconds(30), hardwareQueues), control, kernel.data, null);
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
        List<FakeKernel.Cpl> all = new ArrayList<>();
        while (all.size() < count) {
            List<FakeKernel.Cpl> message = kernel.doneMessages.poll(10, TimeUnit.SECONDS);
            assertThat(message).as("DONE after %d of %d completions", all.size(), count).isNotNull();
            all.addAll(message);
        }
        return all;
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

    @Test
    void createsTheDeviceAfterAttachingWithTheConfiguredSettings() throws Exception {
        open(32, 3);

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH",
                "CREATE size=" + DEVICE + " depth=32 hold=60000 timeout=30000");
        assertThat(channel.deviceIndex()).isZero();
        assertThat(channel.devicePath()).isEqualTo("/dev/valet0");
        assertThat(channel.deviceBytes()).isEqualTo(DEVICE);
        assertThat(channel.slots()).isEqualTo(32 * 3);
        assertThat(channel.preallocatedBytes()).isGreaterThanOrEqualTo(96L * 65536 + KernelChannel.RECEIVE_BUFFER_BYTES
                + KernelChannel.SEND_BUFFER_BYTES);
        assertThat(kernel.attachedTo).isSameAs(kernel.data);
    }

    @Test
    void writesThenReadsReturnTheWrittenData() throws Exception {
        open();
        byte[] first = pattern(8192, 1);
        byte[] second = pattern(KernelChannel.MAX_READ_REPLY_BYTES, 2);
        kernel.sendIo(FakeKernel.io(FakeKernel.write(1, 0, first), FakeKernel.write(2, 65536, second)));
        Map<Long, FakeKernel.Cpl> written = byCookie(completions(2));
        assertThat(written.get(1L).status()).isZero();
        assertThat(written.get(2L).status()).isZero();
        assertThat(written.get(1L).data()).as("a write's CPL carries no data").isNull();

        kernel.sendIo(FakeKernel.io(FakeKernel.read(3, 0, 8192), FakeKernel.read(4, 65536,
                KernelChannel.MAX_READ_REPLY_BYTES), FakeKernel.read(5, 4096, 4096)));
        Map<Long, FakeKernel.Cpl> read = byCookie(completions(3));

        assertThat(read.get(3L).status()).isZero();
        assertThat(read.get(3L).data()).isEqualTo(first);
        assertThat(read.get(4L).data()).isEqualTo(second);
        byte[] page = new byte[4096];
        System.arraycopy(first, 4096, page, 0, 4096);
        assertThat(read.get(5L).data()).isEqualTo(page);
        KernelChannel.Stats stats = channel.stats();
        assertThat(stats.reads()).isEqualTo(3);
        assertThat(stats.writes()).isEqualTo(2);
        assertThat(stats.completions()).isEqualTo(5);
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
                FakeKernel.read(1, 512, 4096),                        // offset not a multiple of 4096
                FakeKernel.read(2, 0, 1000),                          // length not a multiple of 4096
                FakeKernel.read(3, DEVICE - 4096, 8192),              // past the end of the device
                FakeKernel.read(4, DEVICE, 4096),                     // starts at the end
                FakeKernel.read(5, 0, ValetGenl.MAX_IO_BYTES * 2),    // longer than the driver may send
                FakeKernel.read(6, 0, 0),                             // empty
                w -> FakeKernel.write(7, 0, new byte[4096]).accept(w.putU32(ValetGenl.REQ_PAD, 0)),
                w -> w.putU64(ValetGenl.REQ_COOKIE, 8).putU8(ValetGenl.REQ_OP, ValetGenl.OP_WRITE)
                        .putU64(ValetGenl.REQ_OFFSET, 0).putU32(ValetGenl.REQ_LENGTH, 8192), // write without data
                w -> w.putU64(ValetGenl.REQ_COOKIE, 9).putU8(ValetGenl.REQ_OP, 7)
                        .putU64(ValetGenl.REQ_OFFSET, 0).putU32(ValetGenl.REQ_LENGTH, 4096), // unknown op
                w -> w.putU64(ValetGenl.REQ_COOKIE, 10),                                   // no op
                FakeKernel.read(11, DEVICE - 4096, 4096)));           // the last page: fine

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
    void requestsOfAnotherDeviceAreRefusedWithEio() throws Exception {
        open();
        kernel.sendIo(FakeKernel.ioFor(0, FakeKernel.read(1, 0, 4096)));
        assertThat(completions(1)).singleElement().satisfies(c -> assertThat(c.status()).isZero());

        kernel.sendIo(FakeKernel.ioFor(1, FakeKernel.read(2, 0, 4096), FakeKernel.flush(3)));

        assertThat(byCookie(completions(2)).values()).extracting(FakeKernel.Cpl::status).containsOnly(-Netlink.EIO);
    }

    @Test
    void aFullSixtyFourKibibyteReadCannotBeAnsweredAndIsRefused() throws Exception {
        open();
        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, ValetGenl.MAX_IO_BYTES)));

        assertThat(completions(1)).containsExactly(new FakeKernel.Cpl(1, -Netlink.EINVAL, null));
    }

    @Test
    void storeFailuresAreAnsweredWithEio() throws Exception {
        open();
        store.failing = true;

        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, 4096), FakeKernel.write(2, 0, new byte[4096])));

        assertThat(byCookie(completions(2)).values()).extracting(FakeKernel.Cpl::status)
                .containsOnly(-Netlink.EIO);
        assertThat(channel.stats().failed()).isEqualTo(2);
    }

    @Test
    void storeThatThrowsAtOnceIsAnEioToo() throws Exception {
        ValetControl control = ValetControl.open(new GenericNetlink(kernel.control));
        PageStore broken = new PageStore() {
            @Override
            public CompletableFuture<Void> write(long firstPage, int count, ByteBuf src, int srcIndex) {
                throw new IllegalStateException("engine closed");
            }

            @Override
            public CompletableFuture<Void> read(long firstPage, int count, ByteBuf dst, int dstIndex) {
                throw new IllegalStateException("engine closed");
            }
        };
        channel = KernelChannel.open(broken, new KernelChannel.Settings(DEVICE, 4, Duration.ofSeconds(1),
                Duration.ofSeconds(1), 1), control, kernel.data, null);

        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, 4096)));

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
        @SuppressWarnings("unchecked")
        Consumer<MessageWriter>[] requests = flushes.toArray(Consumer[]::new);
        kernel.sendIo(FakeKernel.io(requests));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (channel.stats().flushes() < 21 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }

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
    void largeReadsSplitAcrossDoneMessagesWhenTheyDoNotFitInOne() throws Exception {
        open();
        store.gate = new CountDownLatch(1);
        int reads = KernelChannel.SEND_BUFFER_BYTES / KernelChannel.MAX_READ_REPLY_BYTES + 3;
        List<Consumer<MessageWriter>> requests = new ArrayList<>();
        for (int i = 0; i < reads; i++) {
            requests.add(FakeKernel.read(i, (long) i * 65536, KernelChannel.MAX_READ_REPLY_BYTES));
        }
        @SuppressWarnings("unchecked")
        Consumer<MessageWriter>[] array = requests.toArray(Consumer[]::new);
        kernel.sendIo(FakeKernel.io(array));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (channel.stats().reads() < reads && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        store.gate.countDown();

        List<FakeKernel.Cpl> all = completions(reads);
        assertThat(byCookie(all)).hasSize(reads);
        assertThat(kernel.doneCount.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void moreRequestsThanSlotsWaitForSlotsInsteadOfFailing() throws Exception {
        open(2, 1); // two slots
        store.gate = new CountDownLatch(1);
        kernel.sendIo(FakeKernel.io(FakeKernel.read(1, 0, 4096), FakeKernel.read(2, 4096, 4096),
                FakeKernel.read(3, 8192, 4096), FakeKernel.read(4, 12288, 4096)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (channel.stats().slotWaits() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
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
    void servesAnExistingDeviceAndTheRequestsHeldForIt() throws Exception {
        kernel.devices.add(new DeviceStatus(3, DEVICE, 64, 60000, 30000, false, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
        kernel.held.add(FakeKernel.datagram(FakeKernel.ioFor(3, FakeKernel.read(42, 0, 4096))));

        open(16, 2);

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH");
        assertThat(channel.deviceIndex()).isEqualTo(3);
        assertThat(channel.slots()).as("sized for the device's own queue depth").isEqualTo(64 * 2);
        assertThat(completions(1)).singleElement().satisfies(c -> {
            assertThat(c.cookie()).isEqualTo(42);
            assertThat(c.status()).isZero();
            assertThat(c.data()).hasSize(4096);
        });
    }

    @Test
    void existingDeviceOfAnotherSizeIsRefusedWithAdvice() {
        kernel.devices.add(new DeviceStatus(0, DEVICE * 2, 64, 60000, 30000, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

        assertThatThrownBy(this::open).hasMessage("/dev/valet0 exists with " + DEVICE * 2 + " bytes, but swapSpace is "
                + DEVICE + " bytes: set swapSpace to " + DEVICE * 2 + " to serve it (it may hold swapped pages), or"
                + " swapoff it and unload the module (setup/module.sh unload)");
        assertThat(kernel.commands).doesNotContain("ATTACH");
    }

    @Test
    void deviceWithADaemonAttachedIsRefused() {
        kernel.devices.add(new DeviceStatus(0, DEVICE, 64, 60000, 30000, true, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

        assertThatThrownBy(this::open).hasMessageContaining("/dev/valet0 already has a daemon attached");
    }

    @Test
    void severalDevicesAreRefused() {
        kernel.devices.add(new DeviceStatus(0, DEVICE, 64, 60000, 30000, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        kernel.devices.add(new DeviceStatus(1, DEVICE, 64, 60000, 30000, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));

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
    void missingModuleIsTheClearMessage() {
        kernel.familyLoaded = false;

        assertThatThrownBy(this::open).isInstanceOf(FamilyNotFoundException.class)
                .hasMessage("generic netlink family VALET not found: is valet.ko loaded? (setup/module.sh load)");
    }

    @Test
    void closeDetachesAndStops() throws Exception {
        open();
        kernel.sendIo(FakeKernel.io(FakeKernel.flush(1)));
        completions(1);

        channel.close();

        assertThat(kernel.commands).endsWith("DETACH");
        assertThat(kernel.attachedTo).isNull();
        assertThat(kernel.data.closed).isTrue();
        assertThat(kernel.control.closed).isTrue();
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .doesNotContain("valet-kernel-rx", "valet-kernel-tx");
        assertThat(channel.failure()).isNotDone();
        channel.close(); // twice is fine
    }

    @Test
    void countsPossibleCpus() {
        assertThat(KernelChannel.countCpus("0-3\n")).isEqualTo(4);
        assertThat(KernelChannel.countCpus("0")).isEqualTo(1);
        assertThat(KernelChannel.countCpus("0-1,4,6-7")).isEqualTo(5);
        assertThat(KernelChannel.possibleCpus()).isGreaterThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void settingsComeFromValetYaml() {
        var config = dev.valet.common.config.ClientConfig.defaults();
        KernelChannel.Settings s = KernelChannel.Settings.from(config);

        assertThat(s.deviceBytes()).isEqualTo(8L << 30);
        assertThat(s.queueDepth()).isEqualTo(256);
        assertThat(s.holdTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(s.ioTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.slotsFor(256)).isEqualTo(256 * s.hardwareQueues());
    }
}
