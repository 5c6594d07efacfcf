package dev.valet.client.engine;

import dev.valet.client.engine.donors.DonorPool;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.engine.placement.PlacementPolicy;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.DonorException;
import dev.valet.common.protocol.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Gives slabs their donors: at a slab's first write (or when every copy is gone) it asks the placement policy for
 * {@code numReplica} live donors and allocates the slab on each. Donors that refuse are replaced by the next
 * candidates; a slab placed on fewer donors than asked is handed to re-replication.
 *
 * <p>A slab that already has written pages when it is placed (the backup disk alone acknowledged them while no
 * donor could take the slab, or every copy was lost) gets copies that lack those pages: they start suspended and
 * are handed to re-replication, which fills them ({@link CopyResync}, from the backup disk) before they count. Until
 * then the write waits as for any slab without a current copy.
 */
public final class SlabPlacer {
    private static final Logger LOG = LoggerFactory.getLogger(SlabPlacer.class);
    private static final int ROUNDS = 3;

    private final SlabMap map;
    private final DonorPool pool;
    private final PlacementPolicy<RemoteDonor> policy;
    private final int numReplica;
    private final long slabBytes;
    private Runnable onDegraded = () -> { };
    private Consumer<SlabEntry> onPlacedBehind = s -> { };

    SlabPlacer(SlabMap map, DonorPool pool, PlacementPolicy<RemoteDonor> policy, int numReplica) {
        this.map = map;
        this.pool = pool;
        this.policy = policy;
        this.numReplica = numReplica;
        this.slabBytes = map.slabBytes();
    }

    /**
     * Completes when the slab has at least one copy, or exceptionally with {@link WaitForDonorsException} (which
     * the caller's hold retries) when no donor would take it now: every copy suspended, fewer than
     * {@code numReplica} live donors, allocations unanswered or refused (no room).
     */
    CompletableFuture<Void> ensureMapped(SlabEntry slab) {
        CompletableFuture<Void> mapping;
        synchronized (slab) {
            if (slab.isMapped()) {
                return CompletableFuture.completedFuture(null);
            }
            if (slab.mapping() != null) {
                return slab.mapping();
            }
            if (slab.hasAnyCopy()) {
                // Placing it afresh would orphan (or, on the same donor, wipe) the pages held by its suspended copies
                // or the one being filled: wait for one of them to be a full copy again.
                return CompletableFuture.failedFuture(new WaitForDonorsException("every copy of slab " + slab.id()
                        + " is on a suspected donor or being brought up to date " + slab));
            }
            int live = pool.live().size();
            if (live < numReplica) {
                return CompletableFuture.failedFuture(new WaitForDonorsException("slab " + slab.id() + " needs "
                        + numReplica + " live donors to be placed, " + live + " are live (" + pool.missing() + ")"));
            }
            mapping = new CompletableFuture<>();
            slab.setMapping(mapping);
        }
        AtomicInteger unreachable = new AtomicInteger();
        place(slab, new HashSet<>(), new ArrayList<>(), ROUNDS, unreachable).whenComplete((placed, err) -> {
            List<RemoteDonor> donors = placed;
            if (err == null && donors.size() < numReplica && unreachable.get() > 0) {
                // Short of copies because donors were late, not full: a new slab on too few donors would lose its
                // pages to one more failure. Give back what was allocated and wait for the late ones.
                for (RemoteDonor d : donors) {
                    DonorConnection c = d.connection();
                    if (c != null) {
                        c.freeSlab(slab.id()).exceptionally(e -> null);
                    }
                }
                donors = List.of();
            }
            boolean behind = false;
            synchronized (slab) {
                slab.setMapping(null);
                if (err == null && !donors.isEmpty()) {
                    behind = map.anyWritten(slab, 0, slab.pageCount());
                    if (behind) {
                        slab.setBehindCopies(donors);
                    } else {
                        slab.setReplicas(donors);
                    }
                }
            }
            if (behind) {
                LOG.info("slab {} placed on {}, which lack the pages it already has: they are filled before they"
                        + " count", slab.id(), donors);
                onPlacedBehind.accept(slab);
                mapping.completeExceptionally(new WaitForDonorsException("slab " + slab.id() + " placed on "
                        + donors + ": its copies are brought up to date first"));
                return;
            }
            if (err != null || donors.isEmpty()) {
                // Late, full or refusing now: room comes back (headroom expands, slabs move), so the write waits.
                mapping.completeExceptionally(new WaitForDonorsException("no donor would take slab " + slab.id()
                        + (err != null ? ": " + ReplicaWriter.rootMessage(err) : " (" + pool.live().size()
                        + " live donors; " + (unreachable.get() > 0 ? unreachable.get() + " did not answer"
                        : "none has room") + ")")));
                return;
            }
            if (donors.size() < numReplica) {
                LOG.warn("slab {} placed on {} donors of the {} asked for", slab.id(), donors.size(), numReplica);
                onDegraded.run();
            } else {
                LOG.debug("slab {} placed on {}", slab.id(), donors);
            }
            mapping.complete(null);
        });
        return mapping;
    }

    void onDegraded(Runnable r) {
        this.onDegraded = r;
    }

    /** Called with a slab placed on copies that lack its written pages (re-replication fills them). */
    void onPlacedBehind(Consumer<SlabEntry> c) {
        this.onPlacedBehind = c;
    }

    /** Up to {@code rounds} rounds of choosing and allocating, skipping donors already tried. */
    private CompletableFuture<List<RemoteDonor>> place(SlabEntry slab, Set<RemoteDonor> tried,
                                                      List<RemoteDonor> placed, int rounds,
                                                      AtomicInteger unreachable) {
        List<RemoteDonor> candidates = new ArrayList<>();
        for (RemoteDonor d : pool.live()) {
            if (!tried.contains(d)) {
                candidates.add(d);
            }
        }
        List<RemoteDonor> chosen = policy.choose(candidates, RemoteDonor::signals, numReplica - placed.size(),
                slabBytes);
        if (chosen.isEmpty() || rounds == 0) {
            return CompletableFuture.completedFuture(placed);
        }
        List<CompletableFuture<RemoteDonor>> allocs = new ArrayList<>();
        for (RemoteDonor d : chosen) {
            tried.add(d);
            allocs.add(allocate(d, slab.id()).handle((ok, err) -> {
                if (err != null) {
                    if (ReplicaWriter.isUnreachable(err)) {
                        unreachable.incrementAndGet();
                    }
                    LOG.info("donor {} refused slab {}: {}", d, slab.id(), ReplicaWriter.rootMessage(err));
                    return null;
                }
                return d;
            }));
        }
        return CompletableFuture.allOf(allocs.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            for (CompletableFuture<RemoteDonor> f : allocs) {
                RemoteDonor d = f.join();
                if (d != null) {
                    placed.add(d);
                }
            }
            if (placed.size() >= numReplica) {
                return CompletableFuture.completedFuture(placed);
            }
            return place(slab, tried, placed, rounds - 1, unreachable);
        });
    }

    /**
     * Allocates slab {@code slabId} on {@code donor}. A slab by that id already there is a leftover of an earlier
     * life of this client or of a copy since dropped: it is freed and allocated afresh.
     */
    CompletableFuture<Void> allocate(RemoteDonor donor, long slabId) {
        donor.placedSlabs().add(slabId);
        return donor.connection().allocateSlab(slabId, slabBytes).exceptionallyCompose(err -> {
            Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (e instanceof DonorException d && d.code() == ErrorCode.SLAB_EXISTS) {
                return donor.connection().freeSlab(slabId)
                        .thenCompose(v -> donor.connection().allocateSlab(slabId, slabBytes));
            }
            return CompletableFuture.failedFuture(e);
        });
    }
}
