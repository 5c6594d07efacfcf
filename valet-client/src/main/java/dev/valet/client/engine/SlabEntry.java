package dev.valet.client.engine;

import dev.valet.client.engine.donors.RemoteDonor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Phaser;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One slab of the swap space: which donors hold a full copy, which hold a suspended copy (on a donor that is
 * suspected, or that missed a write by not answering in time: kept, neither written nor counted, until it is brought
 * up to date or its donor is confirmed dead), which donor is being filled as a copy (a new one, or a suspended one
 * brought up to date), and a gate that lets re-replication wait for the writes that started before it added its
 * target. A copy being filled takes every new write and counts towards a write's acknowledgement, so when its
 * filling stops short it is kept as a suspended copy, never forgotten: it may hold the only other copy of an
 * acknowledged write. Guarded by its own monitor.
 */
public final class SlabEntry {
    private final long id;
    private final long firstPage;
    private final int pageCount;
    private List<RemoteDonor> replicas = List.of();
    private List<RemoteDonor> suspended = List.of();
    private RemoteDonor catchingUp;
    /**
     * While {@code catchingUp} is a returned suspended copy attached ahead of its resync ({@link #attach}): the gate
     * of the writes that began before it was attached, which its resync waits on. Null otherwise.
     */
    private Phaser attachedBefore;
    private Phaser writeGate = newGate();
    private CompletableFuture<Void> mapping;
    private boolean queuedForRepair;
    /** When a request for this slab was last held ({@link System#nanoTime()}), or 0. */
    private volatile long wantedAtNanos;
    private boolean waitLogged;
    /** Held by whoever adds or moves a copy (re-replication, migration): one catching-up target at a time. */
    private final ReentrantLock copying = new ReentrantLock();

    SlabEntry(long id, long firstPage, int pageCount) {
        this.id = id;
        this.firstPage = firstPage;
        this.pageCount = pageCount;
    }

    /** The slab's id on the donors: its index in the swap space. */
    public long id() {
        return id;
    }

    public long firstPage() {
        return firstPage;
    }

    public int pageCount() {
        return pageCount;
    }

    /** Donors holding a full, current copy (a snapshot). */
    public synchronized List<RemoteDonor> replicas() {
        return replicas;
    }

    /** Donors holding a suspended copy: possibly behind, kept until resynced or confirmed lost (a snapshot). */
    public synchronized List<RemoteDonor> suspended() {
        return suspended;
    }

    public synchronized boolean isMapped() {
        return !replicas.isEmpty();
    }

    synchronized RemoteDonor catchingUp() {
        return catchingUp;
    }

    /** Every donor a new write must reach: the copies, and the copy being made. */
    synchronized List<RemoteDonor> writeTargets() {
        if (catchingUp == null) {
            return replicas;
        }
        List<RemoteDonor> all = new ArrayList<>(replicas);
        all.add(catchingUp);
        return all;
    }

    /** Registers a write with the current gate; the write must {@code arriveAndDeregister} when it ends. */
    synchronized Phaser enterWrite() {
        writeGate.register();
        return writeGate;
    }

    /**
     * Starts filling {@code target}: from now on new writes reach it too. Returns the gate of the writes that began
     * before, which the caller waits on ({@code arriveAndAwaitAdvance}) before copying, so no write is missed.
     */
    synchronized Phaser beginCatchUp(RemoteDonor target) {
        catchingUp = target;
        return nextGate();
    }

    /**
     * Removes {@code donor}'s copy (a migration moved it away): from now on no new write goes there. Returns the gate
     * of the writes that began before, which may still be on their way to it; the caller waits on it
     * ({@code arriveAndAwaitAdvance}) before freeing the copy.
     */
    synchronized Phaser removeCopy(RemoteDonor donor) {
        drop(donor);
        return nextGate();
    }

    /** Whether {@code donor} holds a full or suspended copy, or is being filled as one. */
    synchronized boolean isHeldBy(RemoteDonor donor) {
        return replicas.contains(donor) || suspended.contains(donor) || catchingUp == donor;
    }

    /**
     * {@code donor} stops being written and counted, but its copy is kept: it may have missed writes, or be fine.
     * A copy being filled there stops being filled and is kept the same way. True if anything changed.
     */
    synchronized boolean suspend(RemoteDonor donor) {
        boolean changed = false;
        if (replicas.contains(donor)) {
            replicas = without(replicas, donor);
            suspended = with(suspended, donor);
            changed = true;
        }
        if (catchingUp == donor) {
            copyStopped(donor);
            changed = true;
        }
        return changed;
    }

    /** Whether any donor holds something of this slab: a full copy, a suspended one, or one being filled. */
    synchronized boolean hasAnyCopy() {
        return !replicas.isEmpty() || !suspended.isEmpty() || catchingUp != null;
    }

    /** Whether a copy that may hold this slab's data is not full now: suspended, or being filled. */
    synchronized boolean hasCopyComingBack() {
        return !suspended.isEmpty() || catchingUp != null;
    }

    /**
     * Starts bringing {@code donor}'s suspended copy up to date: from now on new writes reach it, as a catching-up
     * target. Returns the gate of the writes that began before (see {@link #beginCatchUp}), or null if the donor
     * holds no suspended copy any more.
     */
    synchronized Phaser beginResync(RemoteDonor donor) {
        if (!suspended.contains(donor) || catchingUp != null) {
            return null;
        }
        suspended = without(suspended, donor);
        return beginCatchUp(donor);
    }

    /**
     * {@code donor}, suspended, answers again: its copy becomes the catching-up target at once (new writes reach it
     * and count), ahead of its resync, which brings it up to date when re-replication reaches the slab. Caller holds
     * the copy lock. False if the donor holds no suspended copy, or another copy is being filled.
     */
    synchronized boolean attach(RemoteDonor donor) {
        Phaser before = beginResync(donor);
        if (before == null) {
            return false;
        }
        attachedBefore = before;
        return true;
    }

    /** The donor whose returned copy is attached and waits for its resync ({@link #attach}), or null. */
    synchronized RemoteDonor attached() {
        return attachedBefore != null ? catchingUp : null;
    }

    /**
     * The resync of {@code donor}'s attached copy starts: returns the gate of the writes that began before it was
     * attached, or null if it is not attached (any more).
     */
    synchronized Phaser takeAttached(RemoteDonor donor) {
        if (catchingUp != donor || attachedBefore == null) {
            return null;
        }
        Phaser before = attachedBefore;
        attachedBefore = null;
        return before;
    }

    /**
     * Filling {@code donor}'s copy (new or resynced) stopped short (a source or the donor stopped answering): the
     * copy is kept as a suspended one, since writes acknowledged meanwhile counted it, and is brought up to date
     * later ({@link CopyResync}) or freed as surplus.
     */
    synchronized void copyStopped(RemoteDonor donor) {
        if (catchingUp == donor) {
            clearCatchingUp();
            suspended = with(suspended, donor);
        }
    }

    private static List<RemoteDonor> with(List<RemoteDonor> list, RemoteDonor d) {
        if (list.contains(d)) {
            return list;
        }
        List<RemoteDonor> next = new ArrayList<>(list);
        next.add(d);
        return List.copyOf(next);
    }

    private static List<RemoteDonor> without(List<RemoteDonor> list, RemoteDonor d) {
        List<RemoteDonor> next = new ArrayList<>(list);
        next.remove(d);
        return List.copyOf(next);
    }

    ReentrantLock copyLock() {
        return copying;
    }

    private void clearCatchingUp() {
        catchingUp = null;
        attachedBefore = null;
    }

    /** Closes the current generation of writes and opens the next; returns the closed one. Caller holds the monitor. */
    private Phaser nextGate() {
        Phaser before = writeGate;
        writeGate = newGate();
        return before;
    }

    /**
     * The copy to {@code target} is complete: it becomes a replica. False if it stopped being the catching-up target
     * meanwhile (suspended or dropped): then it is not a copy.
     */
    synchronized boolean promote(RemoteDonor target) {
        if (catchingUp != target) {
            return false;
        }
        clearCatchingUp();
        waitLogged = false;
        replicas = with(replicas, target);
        return true;
    }

    synchronized void setReplicas(List<RemoteDonor> donors) {
        replicas = List.copyOf(donors);
    }

    /**
     * New, empty copies of a slab that has pages written already (acknowledged by the backup disk alone while no
     * copy could be placed, or left without copies when every one was lost): they lack those pages, so they start
     * as suspended copies and become full ones only once brought up to date ({@link CopyResync}).
     */
    synchronized void setBehindCopies(List<RemoteDonor> donors) {
        for (RemoteDonor d : donors) {
            suspended = with(suspended, d);
        }
    }

    /** Drops {@code donor} from this slab; true if it was a replica, a suspended copy or the copy being made. */
    synchronized boolean drop(RemoteDonor donor) {
        boolean dropped = false;
        if (replicas.contains(donor)) {
            replicas = without(replicas, donor);
            dropped = true;
        }
        if (suspended.contains(donor)) {
            suspended = without(suspended, donor);
            dropped = true;
        }
        if (catchingUp == donor) {
            clearCatchingUp();
            dropped = true;
        }
        return dropped;
    }

    synchronized CompletableFuture<Void> mapping() {
        return mapping;
    }

    synchronized void setMapping(CompletableFuture<Void> m) {
        mapping = m;
    }

    /** A request for this slab was held for want of a current copy: re-replication serves it first. */
    void markWanted() {
        wantedAtNanos = System.nanoTime();
    }

    /** Whether a request for this slab was held within the last {@code withinNanos}. */
    boolean isWanted(long withinNanos) {
        long at = wantedAtNanos;
        return at != 0 && System.nanoTime() - at < withinNanos;
    }

    /** Marks the slab queued for repair; false if it already was. */
    synchronized boolean markQueued() {
        if (queuedForRepair) {
            return false;
        }
        queuedForRepair = true;
        return true;
    }

    synchronized void unmarkQueued() {
        queuedForRepair = false;
    }

    /**
     * True the first time re-replication logs that it waits for this slab (no donor can take a copy, every copy
     * suspended), until a copy is promoted again: one line per episode, not one per retry.
     */
    synchronized boolean markWaitLogged() {
        if (waitLogged) {
            return false;
        }
        waitLogged = true;
        return true;
    }

    private static Phaser newGate() {
        // One party stands for the gate's owner, so the phase only advances when the owner waits on it.
        return new Phaser(1);
    }

    @Override
    public synchronized String toString() {
        return "slab " + id + replicas + (catchingUp != null ? "+" + catchingUp : "")
                + (suspended.isEmpty() ? "" : " suspended " + suspended);
    }
}
