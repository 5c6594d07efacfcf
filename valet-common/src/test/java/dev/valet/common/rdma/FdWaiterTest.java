package dev.valet.common.rdma;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** poll(2) through jnr-ffi (LibC), as the completion and CM event channels use it; no device needed. */
class FdWaiterTest {

    @Test
    void pollBindsAndTimesOutOnAnFdThatNeverBecomesReadable() {
        // poll ignores a negative fd: nothing ever becomes readable, so this exercises the binding and the timeout.
        try (FdWaiter w = new FdWaiter(-1)) {
            assertThat(w.awaitReadable(0)).isFalse();
            assertThat(w.awaitReadable(20)).isFalse();
        }
    }
}
