package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.engine.donors.TestDonors;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class RepairQueueTest {
    private final RemoteDonor donor = TestDonors.unconnected(7070);

    private SlabEntry slab(long id, boolean hasCopy) {
        SlabEntry s = new SlabEntry(id, id * 4, 4);
        if (hasCopy) {
            s.setReplicas(List.of(donor));
        }
        return s;
    }

    @Test
    void aSlabWithoutACurrentCopyIsTakenFirstOtherwiseFirstComeFirstServed() throws Exception {
        RepairQueue q = new RepairQueue();
        SlabEntry a = slab(0, true);
        SlabEntry b = slab(1, true);
        SlabEntry urgent = slab(2, false);
        q.add(a);
        q.add(b);
        assertThat(q.hasUrgent()).isFalse();
        q.add(urgent);
        assertThat(q.hasUrgent()).isTrue();
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(urgent);
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(a);
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(b);
        assertThat(q.size()).isZero();
    }

    @Test
    void amongSlabsWithoutACurrentCopyOneWhoseRequestsAreHeldComesFirst() throws Exception {
        RepairQueue q = new RepairQueue();
        SlabEntry first = slab(0, false);
        SlabEntry held = slab(1, false);
        SlabEntry withCopy = slab(2, true);
        q.add(withCopy);
        q.add(first);
        q.add(held);
        held.markWanted();
        withCopy.markWanted();  // wanted, but it has a current copy: only its writes wait, for a second copy
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(held);
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(first);
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(withCopy);
    }

    @Test
    void amongSlabsWithACurrentCopyOneWhoseWritesAreHeldComesFirst() throws Exception {
        RepairQueue q = new RepairQueue();
        SlabEntry first = slab(0, true);
        SlabEntry writesHeld = slab(1, true);
        q.add(first);
        q.add(writesHeld);
        writesHeld.markWanted();
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(writesHeld);
        assertThat(q.take(1, TimeUnit.SECONDS)).isSameAs(first);
    }

    @Test
    void takeWaitsForASlabAndGivesUpAfterItsTimeout() throws Exception {
        RepairQueue q = new RepairQueue();
        long t0 = System.nanoTime();
        assertThat(q.take(50, TimeUnit.MILLISECONDS)).isNull();
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
        SlabEntry s = slab(3, true);
        Thread adder = new Thread(() -> q.add(s));
        adder.start();
        assertThat(q.take(10, TimeUnit.SECONDS)).isSameAs(s);
        adder.join();
    }
}
