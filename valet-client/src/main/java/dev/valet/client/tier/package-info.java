/**
 * The host tier: a bounded pool of this host's memory in front of the engine, so that a swap-out completes at
 * memory speed and reaches the donors in the background, and a swap-in it holds never leaves the machine; with
 * Leap's majority-trend read-ahead filling it before the faults. {@link dev.valet.client.tier.HostTier} is the
 * {@link dev.valet.client.kernel.PageStore} the kernel channel calls; its state lives in memory the driver owns,
 * laid out by {@link dev.valet.client.tier.TierLayout}, so a restarted daemon finds every page it acknowledged
 * (docs/host-tier.md).
 */
package dev.valet.client.tier;
