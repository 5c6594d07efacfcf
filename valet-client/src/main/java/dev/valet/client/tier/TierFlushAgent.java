package dev.valet.client.tier;

import org.agrona.concurrent.Agent;

/**
 * The tier's flush thread ({@value #ROLE}), as an Agrona agent: each duty cycle resumes waiting writes and starts
 * a burst of flushes ({@link HostTier#flushBurst}); with nothing to do it parks in its {@link FlushIdleStrategy}
 * until a write or an answer wakes it.
 */
final class TierFlushAgent implements Agent {
    static final String ROLE = "valet-tier-flush";

    private final HostTier tier;

    TierFlushAgent(HostTier tier) {
        this.tier = tier;
    }

    @Override
    public int doWork() {
        return tier.flushBurst();
    }

    @Override
    public String roleName() {
        return ROLE;
    }
}
