package dev.valet.common.rdma;

import java.io.IOException;

/**
 * What one-sided page transfers need of a queue pair: memory registered for it, chains of send work requests
 * posted to it. {@link QueuePair} is the real one; a test can stand in a software one that carries the work
 * requests out itself.
 */
public interface SendQueue {
    /** Registers {@code [address, address + length)} for work requests on this queue. */
    MemoryRegion register(long address, long length, int access) throws IOException;

    /** Posts a chain of send work requests (one call, one doorbell); returns 0 or the errno of the refusal. */
    int postSend(long firstWr);

    /** The queue's state, for a message about a completion that never came. */
    String describe();
}
