package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.engine.donors.TestDonors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.Phaser;

import static org.assertj.core.api.Assertions.assertThat;

/** The copy states of one slab: a copy that takes writes and counts for them is never forgotten. */
class SlabEntryTest {
    private final RemoteDonor a = TestDonors.unconnected(7070);
    private final RemoteDonor b = TestDonors.unconnected(7071);
    private final RemoteDonor c = TestDonors.unconnected(7072);

    private SlabEntry slabOn(RemoteDonor... donors) {
        SlabEntry s = new SlabEntry(0, 0, 4);
        s.setReplicas(List.of(donors));
        return s;
    }

    @Test
    void aNewCopyThatStopsShortIsKeptAsASuspendedCopy() {
        SlabEntry s = slabOn(a);
        s.beginCatchUp(c);
        assertThat(s.writeTargets()).containsExactly(a, c);
        s.copyStopped(c);
        assertThat(s.writeTargets()).containsExactly(a);
        assertThat(s.suspended()).containsExactly(c);
        assertThat(s.hasCopyComingBack()).isTrue();
    }

    @Test
    void aCopyBeingFilledWhoseDonorIsSuspectedIsKeptAsASuspendedCopy() {
        SlabEntry s = slabOn(a);
        s.beginCatchUp(c);
        assertThat(s.suspend(c)).isTrue();
        assertThat(s.catchingUp()).isNull();
        assertThat(s.suspended()).containsExactly(c);
        assertThat(s.hasAnyCopy()).isTrue();
    }

    @Test
    void aReturnedCopyIsAttachedAtOnceAndItsResyncWaitsForTheWritesBeforeIt() {
        SlabEntry s = slabOn(a, b);
        s.suspend(b);
        Phaser inFlight = s.enterWrite();
        assertThat(s.attach(b)).isTrue();
        assertThat(s.writeTargets()).containsExactly(a, b);
        assertThat(s.attached()).isSameAs(b);
        assertThat(s.suspended()).isEmpty();
        assertThat(s.attach(b)).as("attached already").isFalse();

        Phaser before = s.takeAttached(b);
        assertThat(before).as("the gate of the write in flight at the attach").isSameAs(inFlight);
        assertThat(s.attached()).isNull();
        assertThat(s.takeAttached(b)).isNull();
        assertThat(s.promote(b)).isTrue();
        assertThat(s.replicas()).containsExactly(a, b);
    }

    @Test
    void anAttachedCopyWhoseDonorFallsSilentAgainIsSuspendedAgain() {
        SlabEntry s = slabOn(a, b);
        s.suspend(b);
        s.attach(b);
        s.suspend(b);
        assertThat(s.attached()).isNull();
        assertThat(s.takeAttached(b)).isNull();
        assertThat(s.suspended()).containsExactly(b);
        assertThat(s.writeTargets()).containsExactly(a);
    }

    @Test
    void nothingIsAttachedWhileAnotherCopyIsBeingFilled() {
        SlabEntry s = slabOn(a, b);
        s.suspend(b);
        s.beginCatchUp(c);
        assertThat(s.attach(b)).isFalse();
        assertThat(s.suspended()).containsExactly(b);
        assertThat(s.catchingUp()).isSameAs(c);
    }
}
