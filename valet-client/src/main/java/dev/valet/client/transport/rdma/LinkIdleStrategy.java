package dev.valet.client.transport.rdma;

import org.agrona.concurrent.IdleStrategy;

/**
 * How an {@link RdmaLink} waits for work: a few duty cycles spinning (a completion or a request is often a few
 * microseconds away while requests are in flight), then asleep on the completion channel and the callers'
 * doorbell, which costs no CPU: the client pages out for a busy machine.
 */
final class LinkIdleStrategy implements IdleStrategy {
    /** Empty duty cycles before sleeping. */
    static final int SPINS = 64;

    private final RdmaLink link;
    private int idleCycles;

    LinkIdleStrategy(RdmaLink link) {
        this.link = link;
    }

    @Override
    public void idle(int workCount) {
        if (workCount > 0) {
            idleCycles = 0;
            return;
        }
        idle();
    }

    @Override
    public void idle() {
        if (idleCycles < SPINS) {
            idleCycles++;
            Thread.onSpinWait();
            return;
        }
        link.sleep();
    }

    @Override
    public void reset() {
        idleCycles = 0;
    }

    @Override
    public String alias() {
        return "rdma-link";
    }
}
