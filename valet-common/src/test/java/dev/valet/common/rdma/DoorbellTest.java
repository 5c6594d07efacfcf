package dev.valet.common.rdma;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/** The eventfd doorbell: written only while its thread sleeps, and a sleep on it ends when it rings. */
class DoorbellTest {

    @Test
    void aRingReachesTheFdOnlyWhileTheThreadSleepsAndWakingEmptiesIt() throws IOException {
        try (Doorbell bell = new Doorbell(); FdWaiter w = new FdWaiter(-1)) {
            w.alsoOn(bell.fd());
            bell.ring(); // nobody asleep: no system call, nothing to read
            assertThat(w.awaitReadable(0)).isFalse();
            bell.sleeping();
            bell.ring();
            bell.ring();
            assertThat(w.awaitReadable(1000)).isTrue();
            assertThat(w.firstReadable()).isFalse(); // the second fd woke it
            bell.awake();
            assertThat(w.awaitReadable(0)).isFalse();
        }
    }

    @Test
    void aSleepOnTheSecondFdEndsWhenAnotherThreadRings() throws Exception {
        try (Doorbell bell = new Doorbell(); FdWaiter w = new FdWaiter(-1)) {
            w.alsoOn(bell.fd());
            bell.sleeping();
            Thread ringer = new Thread(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                bell.ring();
            });
            ringer.start();
            assertThat(w.awaitReadable(10_000)).isTrue(); // false had it timed out
            ringer.join();
            bell.awake();
        }
    }
}
