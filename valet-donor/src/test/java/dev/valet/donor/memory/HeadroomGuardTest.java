package dev.valet.donor.memory;

import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.config.HeadroomConfig;
import dev.valet.common.config.VictimPolicy;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.donor.store.Slab;
import dev.valet.donor.store.SlabKey;
import dev.valet.donor.store.SlabStore;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The donor's headroom decisions on a real slab store, with EVICTs recorded instead of sent. */
class HeadroomGuardTest {
    private static final long SLAB = 16 * FrameHeader.PAGE_SIZE;
    private static final long MIB = 1 << 20;
    private static final long SECOND = 1_000_000_000L;
    /** Evict below 100 MiB free, offer again above 200 MiB. */
    private static final HeadroomConfig HEADROOM = new HeadroomConfig(ByteSize.ofMebibytes(100),
            ByteSize.ofMebibytes(200), VictimPolicy.LEAST_ACTIVE, Duration.ofSeconds(2));

    private final SlabStore store = new SlabStore(64 * MIB, 1 << 30, false);
    private final List<SlabKey> sent = new ArrayList<>();
    private final Set<String> connected = new HashSet<>(List.of("a", "b"));

    @AfterEach
    void close() {
        store.close();
    }

    private HeadroomGuard guard(HeadroomConfig config) {
        return new HeadroomGuard(config, store, (slab, id, deadline) -> {
            if (!connected.contains(slab.owner())) {
                return false;
            }
            sent.add(slab);
            return true;
        });
    }

    private Slab written(String owner, long id, long lastAccess) throws Exception {
        Slab slab = store.allocate(owner, id, SLAB);
        synchronized (slab.lock()) {
            slab.store(0, 1, Slab.ZERO_PAGE_CRC, Unpooled.wrappedBuffer(new byte[FrameHeader.PAGE_SIZE]), 0);
            slab.touch(lastAccess);
        }
        return slab;
    }

    @Test
    void unusedSlabsAreFreedFirstWithoutAskingAnyone() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        written("a", 1, 10);
        store.allocate("a", 2, SLAB);
        written("b", 3, 20);
        // One slab short of the headroom: the unused one covers it.
        guard.onSample(0, 100 * MIB - SLAB);

        assertThat(store.find("a", 2)).isNull();
        assertThat(store.slabCount()).isEqualTo(2);
        assertThat(sent).isEmpty();
        assertThat(guard.unusedSlabsReclaimed()).isEqualTo(1);
        assertThat(guard.underPressure()).isTrue();
    }

    @Test
    void leastActiveVictimsAreAskedInOrderUntilTheDeficitIsCovered() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        written("a", 1, 300);
        written("b", 2, 100);
        written("a", 3, 200);
        guard.onSample(0, 100 * MIB - 2 * SLAB);

        assertThat(sent).containsExactly(new SlabKey("b", 2), new SlabKey("a", 3));
        assertThat(guard.evictionsRequested()).isEqualTo(2);
        assertThat(store.slabCount()).as("nothing freed before the owner confirms").isEqualTo(3);
        // The next sample counts the EVICTs outstanding: no one is asked twice.
        guard.onSample(SECOND, 100 * MIB - 2 * SLAB);
        assertThat(sent).hasSize(2);
    }

    @Test
    void oldestVictimsAreTheFirstAllocated() throws Exception {
        HeadroomGuard guard = guard(ConfigLoader.override(HEADROOM, ConfigOverride.of("victim", "oldest")));
        written("a", 1, 300);
        written("b", 2, 100);
        written("a", 3, 200);
        guard.onSample(0, 100 * MIB - 2 * SLAB);

        assertThat(sent).containsExactly(new SlabKey("a", 1), new SlabKey("b", 2));
    }

    @Test
    void theOwnersFreeCompletesAnEviction() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        written("a", 1, 1);
        guard.onSample(0, 100 * MIB - 1);
        assertThat(sent).containsExactly(new SlabKey("a", 1));

        assertThat(store.free("a", 1)).isTrue();
        guard.onFreed(new SlabKey("a", 1));
        guard.onSample(3 * SECOND, 100 * MIB - 1);

        assertThat(guard.evictionsCompleted()).isEqualTo(1);
        assertThat(guard.evictionsTimedOut()).isZero();
    }

    @Test
    void aVictimNotConfirmedInTimeIsKeptAndAskedAgainAfterABackoff() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        written("a", 1, 1);
        guard.onSample(0, 100 * MIB - 1);
        assertThat(sent).hasSize(1);

        guard.onSample(2 * SECOND + 1, 100 * MIB - 1);
        assertThat(guard.evictionsTimedOut()).isEqualTo(1);
        assertThat(store.find("a", 1)).as("never dropped").isNotNull();
        assertThat(sent).as("not asked again at once").hasSize(1);

        // Backoff 2 s after the timeout: asked again then; the next backoff doubles.
        guard.onSample(4 * SECOND + 2, 100 * MIB - 1);
        assertThat(sent).hasSize(2);
        guard.onSample(6 * SECOND + 3, 100 * MIB - 1);
        assertThat(guard.evictionsTimedOut()).isEqualTo(2);
        guard.onSample(9 * SECOND, 100 * MIB - 1);
        assertThat(sent).as("second backoff is 4 s").hasSize(2);
        guard.onSample(11 * SECOND, 100 * MIB - 1);
        assertThat(sent).hasSize(3);
    }

    @Test
    void aVictimWhoseOwnerIsNotConnectedIsKeptAndCounted() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        connected.remove("a");
        written("a", 1, 1);
        guard.onSample(0, 100 * MIB - 1);

        assertThat(sent).isEmpty();
        assertThat(store.find("a", 1)).isNotNull();
        assertThat(guard.evictionsRequested()).as("no EVICT could be sent").isZero();
        assertThat(guard.evictionsTimedOut()).isEqualTo(1);
    }

    @Test
    void aVictimThatCannotBeAskedDoesNotCoverTheDeficit() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        connected.remove("a");
        written("a", 1, 1);
        written("b", 2, 2);
        guard.onSample(0, 100 * MIB - 1);

        assertThat(sent).containsExactly(new SlabKey("b", 2));
    }

    @Test
    void aDeclinedEvictionKeepsTheSlab() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        written("a", 1, 1);
        guard.onSample(0, 100 * MIB - 1);
        assertThat(guard.isEvictId(1)).isTrue();

        guard.onEvictAnswer("a", 1, 1, ErrorCode.EVICT_NOWHERE, "", SECOND);

        assertThat(guard.evictionsDeclined()).isEqualTo(1);
        assertThat(store.find("a", 1)).isNotNull();
        // Another owner cannot answer for it.
        guard.onSample(3 * SECOND + 1, 100 * MIB - 1);
        guard.onEvictAnswer("b", 2, 1, ErrorCode.EVICT_NOWHERE, "", 3 * SECOND + 2);
        assertThat(guard.evictionsDeclined()).isEqualTo(1);
    }

    @Test
    void offersShrinkToNothingUnderPressureAndGrowBackOnlyAboveExpandAbove() throws Exception {
        HeadroomGuard guard = guard(HEADROOM);
        written("a", 1, 1);
        guard.onSample(0, 1024 * MIB);
        assertThat(guard.offeredBytes()).isEqualTo(64 * MIB - SLAB);

        guard.onSample(SECOND, 120 * MIB);
        assertThat(guard.offeredBytes()).as("never below the evictBelow headroom").isEqualTo(20 * MIB);

        guard.onSample(2 * SECOND, 90 * MIB);
        assertThat(guard.underPressure()).isTrue();
        assertThat(guard.offeredBytes()).isZero();

        guard.onSample(3 * SECOND, 150 * MIB);
        assertThat(guard.underPressure()).as("between the thresholds pressure holds").isTrue();
        assertThat(guard.offeredBytes()).isZero();

        guard.onSample(4 * SECOND, 300 * MIB);
        assertThat(guard.underPressure()).isFalse();
        assertThat(guard.offeredBytes()).isEqualTo(64 * MIB - SLAB);
    }

    @Test
    void evictBelowZeroNeverEvicts() throws Exception {
        HeadroomGuard guard = guard(ConfigLoader.override(HEADROOM, ConfigOverride.of("evictBelow", "0")));
        written("a", 1, 1);
        guard.onSample(0, 0);
        assertThat(guard.underPressure()).isFalse();
        assertThat(sent).isEmpty();
    }
}
