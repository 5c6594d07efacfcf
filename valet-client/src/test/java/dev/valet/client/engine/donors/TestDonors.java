package dev.valet.client.engine.donors;

import dev.valet.common.portal.DonorAddress;

import java.time.Duration;

/** Donors that are never connected, for tests of the engine's bookkeeping. */
public final class TestDonors {
    private TestDonors() {
    }

    public static RemoteDonor unconnected(int port) {
        return new RemoteDonor(new DonorAddress("127.0.0.1", port), Duration.ofSeconds(1));
    }
}
