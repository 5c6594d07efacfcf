package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.common.config.ClientConfig;
import dev.valet.donor.DonorProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A client that restarts recovers its slab map from the donors (real donor processes on loopback). */
class EngineRecoveryTest {
    @TempDir
    Path dir;

    @Test
    void aRestartedClientFindsEveryPageAndWritesOn() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            ClientConfig config = EngineHarness.config(2, 3);
            h.start(config);
            long pages = h.pages();
            h.write(0, pages, 1);
            int mapped = h.engine.stats().slabsMapped();
            h.engine.close();

            Engine restarted = h.start(config);

            assertThat(restarted.stats().slabsMapped()).isEqualTo(mapped);
            assertThat(restarted.stats().fullyReplicated()).isTrue();
            assertThat(h.mismatches(0, pages, 1)).isZero();
            h.write(0, pages / 2, 2);
            assertThat(h.mismatches(0, pages / 2, 2)).isZero();
            assertThat(h.mismatches(pages / 2, pages, 1)).isZero();
        }
    }

    @Test
    void aCopyThatMissedWritesBeforeTheRestartIsFreedNotServed() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(3, "256M")) {
            ClientConfig config = EngineHarness.config(2, 3);
            Engine first = h.start(config);
            long pages = h.pages();
            h.write(0, pages, 1);
            SlabEntry slab0 = first.slabMap().slabOf(0);
            DonorProcess frozen = h.holderOf(slab0);
            frozen.pause();
            h.write(0, pages, 2);
            h.awaitFullyReplicated();
            first.close();
            frozen.resume();

            Engine restarted = h.start(config);
            RemoteDonor frozenDonor = h.remote(frozen);

            // Its copies are recovered only where they hold every newest version (writes sent to it before it was
            // suspected land when it resumes): each copy the restarted client kept, read alone, is current.
            assertThat(h.mismatchesOfEachCopyAlone(0, pages, 2)).isZero();
            assertThat(restarted.donors()).contains(frozenDonor);
            assertThat(h.mismatches(0, pages, 2)).isZero();
            h.awaitFullyReplicated();
        }
    }
}
