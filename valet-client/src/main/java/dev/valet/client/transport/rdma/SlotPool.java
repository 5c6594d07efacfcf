package dev.valet.client.transport.rdma;

import dev.valet.client.transport.DonorUnavailableException;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.posix.AnonymousMemory;
import dev.valet.common.rdma.MemoryRegion;
import dev.valet.common.rdma.SendQueue;
import dev.valet.common.rdma.VerbsLayout;
import org.agrona.concurrent.ManyToManyConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The page slots of one connection, registered with its queue pair. Callers claim a free one; when none is free
 * the pool grows (a slot is asked for from completion callbacks too, i.e. on the connection's own thread, which
 * must never wait for a slot only it can give back), up to {@link #MAX_SLOTS}. Claiming and freeing allocate
 * nothing once the pool has grown to the depth callers keep in flight.
 */
final class SlotPool {
    private static final Logger LOG = LoggerFactory.getLogger(SlotPool.class);
    static final int INITIAL_SLOTS = 4;
    /** Slots past which growth is logged: a caller keeping this many requests in flight is unusual. */
    static final int MANY_SLOTS = 64;
    /** The most slots: the capacity of the free list and of the connection's submission queue. */
    static final int MAX_SLOTS = 1024;

    private final DonorAddress address;
    private final SendQueue qp;
    private final int maxPages;
    private final int slotBytes;
    private final PageSlot[] byId = new PageSlot[MAX_SLOTS];
    private final AnonymousMemory[] memory = new AnonymousMemory[MAX_SLOTS];
    private final ManyToManyConcurrentArrayQueue<PageSlot> free = new ManyToManyConcurrentArrayQueue<>(MAX_SLOTS);
    private int count;
    private boolean closed;

    SlotPool(DonorAddress address, SendQueue qp, int maxPages) throws IOException {
        this.address = address;
        this.qp = qp;
        this.maxPages = maxPages;
        this.slotBytes = PageSlot.bytesFor(maxPages);
        for (int i = 0; i < INITIAL_SLOTS; i++) {
            free.offer(newSlot());
        }
    }

    /** A free slot, claimed, or a new one: never waits. */
    PageSlot claim() {
        PageSlot slot = free.poll();
        return (slot != null ? slot : grow()).claim();
    }

    /** Slot {@code id} (a work request id's slot number). */
    PageSlot byId(int id) {
        return id >= 0 && id < MAX_SLOTS ? byId[id] : null;
    }

    void free(PageSlot slot) {
        free.offer(slot);
    }

    private PageSlot grow() {
        synchronized (this) {
            if (closed) {
                throw new DonorUnavailableException(address + ": connection closed");
            }
            if (count == MAX_SLOTS) {
                throw new DonorUnavailableException(address + ": all " + MAX_SLOTS + " RDMA page slots are in use:"
                        + " requests are not being answered");
            }
            if (count == MANY_SLOTS) {
                LOG.warn("{}: {} RDMA page slots in use ({} KiB each): callers keep that many requests in flight",
                        address, MANY_SLOTS, slotBytes / 1024);
            }
            try {
                return newSlot();
            } catch (IOException e) {
                throw new DonorUnavailableException(address + ": cannot register another page slot: "
                        + e.getMessage(), e);
            }
        }
    }

    private synchronized PageSlot newSlot() throws IOException {
        AnonymousMemory m = AnonymousMemory.map(slotBytes, false);
        try {
            MemoryRegion mr = qp.register(m.address(), slotBytes, VerbsLayout.IBV_ACCESS_LOCAL_WRITE);
            PageSlot slot = new PageSlot(count, m.address(), m.buffer(), mr.lkey(), maxPages, this);
            memory[count] = m;
            byId[count] = slot;
            count++;
            return slot;
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Unmaps the slots once the queue pair is gone, unless a caller still holds received pages: their memory is
     * then left mapped rather than pulled away.
     */
    synchronized void close() {
        closed = true;
        if (free.size() == count) {
            for (int i = 0; i < count; i++) {
                memory[i].close();
            }
        } else {
            LOG.debug("{}: {} page slots still held at close; their mappings are kept", address, count - free.size());
        }
    }
}
