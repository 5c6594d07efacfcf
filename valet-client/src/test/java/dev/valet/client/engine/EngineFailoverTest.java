package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.client.DonorFixture;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.PagePattern;
import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The engine against real donor processes that die, freeze and come back. */
class EngineFailoverTest {
    @TempDir
    Path dir;

    @Test
    void donorKilledMidWorkloadLosesNoPageAndTwoCopiesAreRestored() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            Engine engine = h.start(EngineHarness.config(2, 3));
            long pages = h.pages();
            h.write(0, pages / 2, 1);
            DonorProcess victim = h.holderOf(engine.slabMap().slabOf(0));
            victim.kill();
            h.write(pages / 2, pages, 1);

            h.awaitFullyReplicated();

            assertThat(h.mismatches(0, pages, 1)).isZero();
            RemoteDonor dead = h.remote(victim);
            for (SlabEntry s : engine.slabMap().touched()) {
                assertThat(s.replicas()).hasSize(2).doesNotContain(dead);
            }
            assertThat(engine.stats().slabsRepaired()).isPositive();
        }
    }

    @Test
    void twoOfThreeDonorsKilledWithBackupDiskLoseNoPage() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            h.start(EngineHarness.config(2, 3, ConfigOverride.of("backupDisk", dir.resolve("backup.img"))));
            long pages = h.pages();
            h.write(0, pages, 1);
            h.donors.get(0).kill();
            h.donors.get(1).kill();

            // Slabs whose two copies were both on the dead donors can only come from the backup disk.
            assertThat(h.mismatches(0, pages, 1)).isZero();
            // Writes go on with one donor left (fewer copies than asked, never refused).
            h.write(0, pages / 4, 2);
            assertThat(h.mismatches(0, pages / 4, 2)).isZero();
            assertThat(h.mismatches(pages / 4, pages, 1)).isZero();
        }
    }

    @Test
    void withEveryCopyGoneAndNoBackupReadsFailAndNeverReturnZeros() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "256M")) {
            Engine engine = h.start(EngineHarness.config(2, 2));
            h.write(0, 64, 1);
            h.donors.get(0).kill();
            h.donors.get(1).kill();

            ByteBuf buf = Unpooled.buffer(EngineHarness.BATCH * FrameHeader.PAGE_SIZE);
            buf.writeBytes(new byte[buf.capacity()]);
            assertThatThrownBy(() -> engine.read(0, EngineHarness.BATCH, buf, 0).join())
                    .isInstanceOf(CompletionException.class).hasCauseInstanceOf(PageIoException.class)
                    .cause().hasMessageContaining("no copy holds the last written version");
            // A page never written still reads as zeros: that is its content.
            ByteBuf never = Unpooled.buffer(FrameHeader.PAGE_SIZE).writeZero(FrameHeader.PAGE_SIZE);
            engine.read(h.pages() - 1, 1, never, 0).join();
            assertThat(never.forEachByte(b -> b == 0)).isEqualTo(-1);
            buf.release();
            never.release();
        }
    }

    @Test
    void aPartitionedReplicaThatMissedWritesIsNeverServedAsCurrent() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            Engine engine = h.start(EngineHarness.config(2, 3));
            long pages = h.pages();
            h.write(0, pages, 1);
            DonorProcess frozen = h.holderOf(engine.slabMap().slabOf(0));
            RemoteDonor frozenDonor = h.remote(frozen);
            assertThat(h.slabsOn(frozen)).isNotEmpty();

            frozen.pause();
            h.write(0, pages, 2);
            assertThat(frozenDonor.isLive()).isFalse();
            frozen.resume();
            awaitLive(frozenDonor);
            h.awaitFullyReplicated();

            // Its generation-1 copies were dropped when it froze and freed when it came back.
            assertThat(h.mismatches(0, pages, 2)).isZero();
        }
    }

    @Test
    void aCopyHoldingAnOlderVersionIsSkippedAndDropped() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "256M");
             TcpTransport transport = DonorFixture.transport()) {
            Engine engine = h.start(EngineHarness.config(2, 2));
            h.write(0, 8, 1);
            h.write(0, 8, 2);
            SlabEntry slab = engine.slabMap().slabOf(0);
            assertThat(slab.replicas()).hasSize(2);
            // Behind the engine's back, the first copy of page 3 goes back to generation 1 (as if it had missed
            // the second write): same identity, slab freed and made again, page 3 written at version 1.
            RemoteDonor stale = slab.replicas().get(0);
            RemoteDonor good = slab.replicas().get(1);
            DonorConnection rogue = transport.connect(stale.address(), "engine-test").join();
            rogue.freeSlab(slab.id()).join();
            rogue.allocateSlab(slab.id(), EngineHarness.SLAB).join();
            byte[] old = new byte[FrameHeader.PAGE_SIZE];
            PagePattern.fill(old, 5, 0, 3, 1);
            rogue.writePages(slab.id(), 1, e -> e.add(3, 1, PageChecksum.crc32c(old, 0), old, 0)).join();
            rogue.close();

            // With only the stale copy to ask, the read fails: an I/O error, never the older data.
            slab.setReplicas(List.of(stale));
            ByteBuf buf = Unpooled.buffer(FrameHeader.PAGE_SIZE).writeZero(FrameHeader.PAGE_SIZE);
            assertThatThrownBy(() -> engine.read(3, 1, buf, 0).join()).hasCauseInstanceOf(PageIoException.class);
            assertThat(slab.replicas()).as("the stale copy is dropped").isEmpty();
            buf.release();
            // The good copy still serves generation 2.
            slab.setReplicas(List.of(good));
            assertThat(h.mismatches(0, 8, 2)).isZero();
        }
    }

    @Test
    void writesDuringReReplicationAreNotLost() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            // A slow copy (1 MiB/s) so the writes below certainly overlap it.
            Engine engine = h.start(EngineHarness.config(2, 3, ConfigOverride.of("failover.reReplicationRate", "1M")));
            long pages = EngineHarness.SLAB / FrameHeader.PAGE_SIZE;
            h.write(0, pages, 1);
            SlabEntry slab = engine.slabMap().slabOf(0);
            List<RemoteDonor> holders = slab.replicas();
            DonorProcess victim = h.donors.stream().filter(p -> h.remote(p).equals(holders.get(0))).findFirst()
                    .orElseThrow();
            victim.kill();
            // Wait until the copy has started, then rewrite every page of the slab while it runs.
            Await.until("re-replication started", Duration.ofSeconds(10), () -> slab.catchingUp() != null);
            h.write(0, pages, 2);
            h.awaitFullyReplicated();
            assertThat(slab.replicas()).hasSize(2);
            assertThat(h.mismatches(0, pages, 2)).isZero();
            // Each copy alone must hold generation 2: drop the other and read again.
            for (RemoteDonor keep : slab.replicas()) {
                RemoteDonor other = slab.replicas().get(0).equals(keep) ? slab.replicas().get(1)
                        : slab.replicas().get(0);
                List<RemoteDonor> both = slab.replicas();
                slab.setReplicas(List.of(keep));
                assertThat(h.mismatches(0, pages, 2)).as("copy on %s", keep).isZero();
                slab.setReplicas(both);
                assertThat(other).isNotNull();
            }
        }
    }

    @Test
    void aDonorThatComesBackIsReAdmittedWithFreshState() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            Engine engine = h.start(EngineHarness.config(2, 3));
            h.write(0, h.pages() / 2, 1);
            DonorProcess victim = h.donors.get(2);
            int port = victim.address().port();
            RemoteDonor d = h.remote(victim);
            victim.kill();
            h.awaitFullyReplicated();
            h.donors.set(2, DonorProcess.start(dir, "d2-again", port, "memory: 256M\nlockMemory: false\n"));
            awaitLive(d);
            assertThat(d.placedSlabs()).isEmpty();
            // New slabs may land on it again.
            h.write(h.pages() / 2, h.pages(), 1);
            assertThat(h.mismatches(0, h.pages(), 1)).isZero();
            assertThat(engine.stats().fullyReplicated()).isTrue();
        }
    }

    private static void awaitLive(RemoteDonor d) throws InterruptedException {
        Await.until(() -> "donor " + d + " live again", Duration.ofSeconds(20), d::isLive);
    }
}
