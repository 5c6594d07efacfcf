package dev.valet.client.transport.tcp;

import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.portal.DonorAddress;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The requests of one connection waiting for their replies, by request id, with their deadlines, and the pool of
 * page requests to reuse. Guarded by one lock; nothing is allocated per request (no boxed id, no map node).
 * Callers are told outside the lock: an answer may send the next request at once.
 */
final class PendingRequests {
    /** Page requests (and frames) kept for reuse: more than the engine ever has in flight to one donor. */
    private static final int MAX_IDLE = 4096;

    private final DonorAddress address;
    private final Long2ObjectHashMap<PendingRequest> byId = new Long2ObjectHashMap<>();
    private final ArrayDeque<PageRequest> idle = new ArrayDeque<>();
    private final ArrayDeque<PageFrame> idleFrames = new ArrayDeque<>();
    private final PageFrame.Resender resender;
    /** The deadline scan's scratch list (event loop only). */
    private final List<PendingRequest> expired = new ArrayList<>();

    PendingRequests(DonorAddress address, PageFrame.Resender resender) {
        this.address = address;
        this.resender = resender;
    }

    /** A page request from the pool, or a new one when every pooled one is waiting for its reply. */
    PageRequest pageRequest() {
        synchronized (byId) {
            PageRequest r = idle.pollLast();
            return r != null ? r : new PageRequest(this);
        }
    }

    void recycle(PageRequest r) {
        synchronized (byId) {
            if (idle.size() < MAX_IDLE) {
                idle.addLast(r);
            }
        }
    }

    /** A page frame from the pool, or a new one when every pooled one is open or waiting for its reply. */
    PageFrame pageFrame() {
        synchronized (byId) {
            PageFrame f = idleFrames.pollLast();
            return f != null ? f : new PageFrame(this, resender);
        }
    }

    void recycle(PageFrame f) {
        synchronized (byId) {
            if (idleFrames.size() < MAX_IDLE) {
                idleFrames.addLast(f);
            }
        }
    }

    /** Waits for the reply to {@code id} from now until {@code timeoutNanos} from now. */
    void add(long id, PendingRequest request, long timeoutNanos) {
        long now = System.nanoTime();
        request.id = id;
        request.sentNanos = now;
        request.deadlineNanos = now + timeoutNanos;
        synchronized (byId) {
            byId.put(id, request);
        }
    }

    /** The request waiting for {@code id}, no longer waiting; null if none is. */
    PendingRequest take(long id) {
        synchronized (byId) {
            return byId.remove(id);
        }
    }

    /** Fails the request waiting for {@code id}, if one still is. */
    void fail(long id, RuntimeException cause) {
        PendingRequest p = take(id);
        if (p != null) {
            p.failed(cause);
        }
    }

    /** Fails every waiting request with {@code cause}. */
    void failAll(RuntimeException cause) {
        List<PendingRequest> all;
        synchronized (byId) {
            all = new ArrayList<>(byId.values());
            byId.clear();
        }
        for (PendingRequest p : all) {
            p.failed(cause);
        }
    }

    /** Fails every request past its deadline (one scan serves them all, instead of a timer per request). */
    void expireLate() {
        long now = System.nanoTime();
        synchronized (byId) {
            for (Iterator<PendingRequest> it = byId.values().iterator(); it.hasNext(); ) {
                PendingRequest p = it.next();
                if (now - p.deadlineNanos >= 0) {
                    it.remove();
                    expired.add(p);
                }
            }
        }
        for (int i = 0; i < expired.size(); i++) {
            PendingRequest p = expired.get(i);
            p.failed(DonorUnavailableException.timeout(address + ": no reply to request " + p.id + " within "
                    + (p.deadlineNanos - p.sentNanos) / 1_000_000 + " ms"));
        }
        expired.clear();
    }

    @Override
    public String toString() {
        return "donor " + address;
    }
}
