package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.netlink.GenericNetlink;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tier area and the store hand-over of {@link KernelChannel}, against a simulated driver ({@link FakeKernel},
 * whose tier areas outlive channels as the driver's do) and an in-memory backing store.
 */
class KernelChannelTierTest {
    private static final long DEVICE = 4L << 20;
    private static final long AREA = 2L << 20;
    /** The tier area the channel asks CREATE for. */
    private static final long TIER = 1L << 20;

    private final FakeKernel kernel = new FakeKernel();
    private final KernelChannelTest.MemoryStore backing = new KernelChannelTest.MemoryStore(DEVICE);
    /** What happened, in order: "opener", "close tier store", ... */
    private final List<String> events = new CopyOnWriteArrayList<>();
    private KernelChannel channel;

    /** The tier as a test sees it: passes everything to the backing store, counting, and records its close. */
    final class WrappingStore implements PageStore, AutoCloseable {
        final ByteBuf tierMemory;
        final AtomicInteger reads = new AtomicInteger();
        final AtomicInteger writes = new AtomicInteger();
        volatile int tierUnmappedAtClose = -1;

        WrappingStore(ByteBuf tierMemory) {
            this.tierMemory = tierMemory;
        }

        @Override
        public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
            writes.incrementAndGet();
            backing.write(firstPage, count, src, srcIndex, done);
        }

        @Override
        public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
            reads.incrementAndGet();
            backing.read(firstPage, count, dst, dstIndex, done);
        }

        @Override
        public void close() {
            tierUnmappedAtClose = kernel.tierUnmapped.get();
            events.add("close tier store");
        }
    }

    private KernelChannel open(long tierBytes, KernelChannel.TierOpener opener) throws IOException {
        ValetControl control = ValetControl.open(new GenericNetlink(kernel.control));
        channel = KernelChannel.open(backing, new KernelChannel.Settings(DEVICE, 16, Duration.ofSeconds(60),
                Duration.ofSeconds(30), AREA, tierBytes, 2), control, kernel.data, null, kernel.mapper(), opener);
        return channel;
    }

    @AfterEach
    void closeChannel() {
        if (channel != null) {
            channel.close();
        }
        backing.engineThreads.shutdownNow();
    }

    private List<FakeKernel.Cpl> completions(int count) throws InterruptedException {
        return kernel.completions(count);
    }

    /** Long enough for the receiver to take the requests the driver sends at ATTACH. */
    private static void pause() {
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 5 + seed * 11 + i / 4096);
        }
        return b;
    }

    @Test
    void aFreshDeviceGetsItsTierAtCreateAndEarlyRequestsGoToTheBackingStoreUntilTheTierIsOpen() throws Exception {
        byte[] label = pattern(4096, 1);
        System.arraycopy(label, 0, backing.bytes, 0, 4096);
        kernel.ioDuringCreate = FakeKernel.ioFor(0, FakeKernel.read(9, 0, 4096, 8192)); // the partition scan
        WrappingStore[] tier = new WrappingStore[1];

        open(TIER, (memory, store) -> {
            events.add("opener");
            assertThat(store).as("the backing store is what the tier wraps").isSameAs(backing);
            assertThat(kernel.commands).as("after CREATE").anyMatch(c -> c.startsWith("CREATE"));
            tier[0] = new WrappingStore(memory);
            return tier[0];
        });

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH", "CREATE size=" + DEVICE
                + " depth=16 hold=60000 timeout=30000 data=" + AREA + " tier=" + TIER);
        FakeKernel.Cpl scan = completions(1).get(0);
        assertThat(scan.data()).as("served by the backing store, before the tier opened").isEqualTo(label);
        assertThat(backing.readCalls.get()).isEqualTo(1);
        assertThat(kernel.tierMapped).containsExactly("0:" + TIER);
        assertThat(channel.tierBytes()).isEqualTo(TIER);
        assertThat(tier[0].tierMemory.capacity()).isEqualTo((int) TIER);
        tier[0].tierMemory.setBytes(4096, pattern(4096, 2)); // the tier's memory is the driver's tier area
        byte[] seen = new byte[4096];
        kernel.tiers.get(0).buffer().getBytes(4096, seen);
        assertThat(seen).isEqualTo(pattern(4096, 2));

        kernel.place(0, 0, pattern(8192, 3));
        kernel.sendIo(FakeKernel.ioFor(0, FakeKernel.write(10, 8192, 8192, 0), FakeKernel.read(11, 0, 4096, 65536)));

        assertThat(completions(2)).extracting(FakeKernel.Cpl::status).containsOnly(0);
        assertThat(tier[0].writes.get()).as("later requests go to the tier").isEqualTo(1);
        assertThat(tier[0].reads.get()).isEqualTo(1);
        assertThat(backing.readCalls.get()).as("the scan, and the tier's read passed on").isEqualTo(2);

        channel.close();

        assertThat(events).containsExactly("opener", "close tier store");
        assertThat(tier[0].tierUnmappedAtClose).as("closed before the tier is unmapped").isZero();
        assertThat(kernel.tierUnmapped.get()).isEqualTo(1);
    }

    @Test
    void anExistingTierIsOpenedAfterAttachAndBeforeTheHeldRequestsAreServed() throws Exception {
        long ownTier = 2 * TIER; // not the configured size: the device keeps its own
        kernel.addDevice(FakeKernel.device(3, DEVICE, 64, AREA, ownTier, false, 2));
        byte[] left = pattern(4096, 4);
        kernel.tiers.get(3).buffer().setBytes((int) ownTier - 4096, left); // what the killed daemon left
        byte[] page = pattern(4096, 5);
        System.arraycopy(page, 0, backing.bytes, 4096, 4096);
        kernel.place(3, 0, pattern(4096, 6));
        kernel.hold(FakeKernel.ioFor(3, FakeKernel.read(42, 4096, 4096, 8192), FakeKernel.write(43, 0, 4096, 0)));
        WrappingStore[] tier = new WrappingStore[1];

        open(TIER, (memory, store) -> {
            events.add("opener");
            assertThat(kernel.attachedTo).as("after ATTACH: only the attached daemon may map the tier").isNotNull();
            byte[] found = new byte[4096];
            memory.getBytes((int) ownTier - 4096, found);
            assertThat(found).as("the tier area as the earlier daemon left it").isEqualTo(left);
            pause(); // the held requests arrive meanwhile: they must wait for the tier
            assertThat(backing.readCalls.get() + backing.writeCalls.get()).isZero();
            assertThat(kernel.doneMessages).isEmpty();
            tier[0] = new WrappingStore(memory);
            return tier[0];
        });

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH");
        assertThat(channel.tierBytes()).isEqualTo(ownTier);
        assertThat(kernel.tierMapped).containsExactly("3:" + ownTier);
        List<FakeKernel.Cpl> cpls = completions(2);
        assertThat(cpls).extracting(FakeKernel.Cpl::status).containsOnly(0);
        assertThat(cpls).filteredOn(c -> c.cookie() == 42).singleElement()
                .satisfies(c -> assertThat(c.data()).isEqualTo(page));
        assertThat(tier[0].reads.get()).as("the held requests went to the tier").isEqualTo(1);
        assertThat(tier[0].writes.get()).isEqualTo(1);
        assertThat(channel.stats().reads() + channel.stats().writes()).isEqualTo(2);
    }

    @Test
    void anOpenerThatFailsFailsTheStartDetachesAndLeavesTheHeldRequestsToTheDriver() {
        kernel.addDevice(FakeKernel.device(0, DEVICE, 64, AREA, TIER, false, 1));
        kernel.hold(FakeKernel.ioFor(0, FakeKernel.read(42, 0, 4096, 0)));

        assertThatThrownBy(() -> open(TIER, (memory, store) -> {
            pause(); // the held request arrives and waits
            throw new IOException("the tier's slot table is corrupt");
        })).isInstanceOf(IOException.class).hasMessage("the tier's slot table is corrupt");

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH", "DETACH");
        assertThat(kernel.doneMessages).as("never answered: the driver holds it for the next daemon").isEmpty();
        assertThat(backing.readCalls.get()).isZero();
        assertThat(kernel.tierUnmapped.get()).isEqualTo(1);
    }

    @Test
    void anExistingTierWithoutAnOpenerIsRefusedBeforeAttach() {
        kernel.addDevice(FakeKernel.device(0, DEVICE, 64, AREA, TIER, false, 0));

        assertThatThrownBy(() -> open(0, null)).isInstanceOf(IOException.class)
                .hasMessage("/dev/valet0 has a tier area of " + TIER + " bytes, which may hold pages its donors lack,"
                        + " but this daemon runs without a host tier to recover them: start it with a host tier (any"
                        + " size: the device keeps its own)");
        assertThat(kernel.commands).containsExactly("STATUS");
    }

    @Test
    void withoutATierNoOpenerRunsAndTheBackingStoreServes() throws Exception {
        kernel.addDevice(FakeKernel.device(0, DEVICE, 64, AREA, 0, false, 0));

        open(TIER, (memory, store) -> {
            events.add("opener");
            return store;
        });
        kernel.sendIo(FakeKernel.ioFor(0, FakeKernel.read(1, 0, 4096, 0)));

        assertThat(completions(1)).extracting(FakeKernel.Cpl::status).containsOnly(0);
        assertThat(events).as("the device has no tier area (its own size wins)").isEmpty();
        assertThat(kernel.tierMapped).isEmpty();
        assertThat(channel.tierBytes()).isZero();
        assertThat(backing.readCalls.get()).isEqualTo(1);
    }

    @Test
    void noTierAskedForCreatesNone() throws Exception {
        open(0, (memory, store) -> {
            events.add("opener");
            return store;
        });

        assertThat(kernel.commands).containsExactly("STATUS", "ATTACH",
                "CREATE size=" + DEVICE + " depth=16 hold=60000 timeout=30000 data=" + AREA);
        assertThat(events).isEmpty();
        assertThat(kernel.tiers).isEmpty();
        channel.close();
        assertThat(kernel.tierUnmapped.get()).isZero();
    }

    @Test
    void tierSettingsOutsideTheDriversBoundsOrWithoutAnOpenerAreRefused() {
        assertThatThrownBy(() -> new KernelChannel.Settings(DEVICE, 1, Duration.ofSeconds(1), Duration.ofSeconds(1),
                AREA, TIER + 512, 1)).hasMessage("tier area of " + (TIER + 512) + " bytes: must be 0 (none) or a"
                        + " multiple of 4096 up to " + ValetGenl.MAX_TIER_BYTES);
        assertThatThrownBy(() -> new KernelChannel.Settings(DEVICE, 1, Duration.ofSeconds(1), Duration.ofSeconds(1),
                AREA, ValetGenl.MAX_TIER_BYTES + 4096, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new KernelChannel.Settings(DEVICE, 1, Duration.ofSeconds(1), Duration.ofSeconds(1), AREA, 1)
                .tierBytes()).as("the constructor without a tier").isZero();
        assertThatThrownBy(() -> open(TIER, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a tier area of " + TIER + " bytes, but no tier to open in it");
        assertThat(kernel.commands).isEmpty();
    }
}
