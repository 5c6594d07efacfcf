package dev.valet.donor.server.rdma;

import dev.valet.common.rdma.CmEvent;
import dev.valet.common.rdma.CmEventChannel;
import dev.valet.common.rdma.ConnectionParameters;
import dev.valet.common.rdma.NativeMemory;
import dev.valet.common.rdma.Rdma;
import dev.valet.common.rdma.SocketAddresses;
import dev.valet.common.rdma.VerbsLayout;
import dev.valet.donor.server.Donor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The donor's RDMA side, beside its TCP server: an rdma_cm listener (same address and port number as TCP, in
 * rdma_cm's own port space) that accepts each client into an {@link RdmaDonorSession} with its own thread, queue
 * pair and protection domain. One thread here handles the connection events of all sessions.
 */
public final class RdmaDonorListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RdmaDonorListener.class);
    private static final int EVENT_POLL_MS = 200;

    private final Rdma rdma;
    private final Donor donor;
    private final CmEventChannel events;
    private final long listenId;
    private final Map<Long, RdmaDonorSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, Thread> threads = new ConcurrentHashMap<>();
    private final AtomicLong connections = new AtomicLong();
    private final Thread loop;
    private volatile boolean closing;

    private RdmaDonorListener(Rdma rdma, Donor donor, CmEventChannel events, long listenId) {
        this.rdma = rdma;
        this.donor = donor;
        this.events = events;
        this.listenId = listenId;
        this.loop = new Thread(this::run, "valet-donor-rdma-cm");
        this.loop.setDaemon(true);
    }

    /** Binds and listens on {@code address} (IPv4); throws with the reason when RDMA cannot serve there. */
    public static RdmaDonorListener start(Donor donor, InetSocketAddress address) throws IOException {
        Rdma rdma = Rdma.get();
        if (rdma.deviceCount() == 0) {
            throw new IOException("no RDMA device (ibv_get_device_list found none)");
        }
        CmEventChannel events = new CmEventChannel(rdma);
        long id = 0;
        long sa = SocketAddresses.sockaddrIn(address);
        try {
            id = events.createId();
            if (rdma.cm().rdma_bind_addr(id, sa) != 0) {
                throw new IOException(rdma.lastError("rdma_bind_addr(" + address + ")"));
            }
            if (rdma.cm().rdma_listen(id, 64) != 0) {
                throw new IOException(rdma.lastError("rdma_listen(" + address + ")"));
            }
        } catch (IOException | RuntimeException e) {
            if (id != 0) {
                rdma.cm().rdma_destroy_id(id);
            }
            events.close();
            throw e;
        } finally {
            NativeMemory.free(sa);
        }
        RdmaDonorListener listener = new RdmaDonorListener(rdma, donor, events, id);
        listener.loop.start();
        LOG.info("valet-donor RDMA listening on {} (rdma_cm)", address);
        return listener;
    }

    private void run() {
        while (!closing) {
            CmEvent e;
            try {
                e = events.next(EVENT_POLL_MS);
            } catch (IOException | RuntimeException | LinkageError ex) {
                LOG.error("rdma_cm event channel failed: {}; RDMA listener stops", ex.toString());
                return;
            }
            if (e != null) {
                handle(e);
            }
        }
    }

    private void handle(CmEvent e) {
        switch (e.type()) {
            case VerbsLayout.RDMA_CM_EVENT_CONNECT_REQUEST -> accept(e.id());
            case VerbsLayout.RDMA_CM_EVENT_ESTABLISHED -> {
                Thread t = threads.get(e.id());
                if (t != null && t.getState() == Thread.State.NEW) {
                    t.start();
                }
            }
            case VerbsLayout.RDMA_CM_EVENT_DISCONNECTED -> stop(e.id());
            default -> LOG.debug("rdma_cm event {} (status {})", e.name(), e.status());
        }
    }

    private void accept(long id) {
        String peer = "rdma#" + connections.incrementAndGet();
        RdmaDonorSession session;
        try {
            session = new RdmaDonorSession(rdma, id, donor, peer, () -> ended(id));
        } catch (IOException | RuntimeException ex) {
            LOG.warn("RDMA connection {} refused: {}", peer, ex.getMessage());
            rdma.cm().rdma_reject(id, 0, (byte) 0);
            rdma.cm().rdma_destroy_id(id);
            return;
        }
        Thread t = new Thread(session, "valet-donor-rdma-" + peer.substring(5));
        t.setDaemon(true);
        sessions.put(id, session);
        threads.put(id, t);
        long param = ConnectionParameters.allocate();
        try {
            if (rdma.cm().rdma_accept(id, param) != 0) {
                LOG.warn("RDMA connection {}: {}", peer, rdma.lastError("rdma_accept"));
                stop(id);
            }
        } finally {
            NativeMemory.free(param);
        }
    }

    /**
     * Ends session {@code id}: its thread sees the stop and cleans up; a thread never started (the connection was
     * never established) is started for that.
     */
    private void stop(long id) {
        RdmaDonorSession s = sessions.get(id);
        if (s == null) {
            return;
        }
        s.stop();
        Thread t = threads.get(id);
        if (t != null && t.getState() == Thread.State.NEW) {
            t.start();
        }
    }

    private void ended(long id) {
        sessions.remove(id);
        threads.remove(id);
        rdma.cm().rdma_destroy_id(id);
    }

    /** Sessions being served now. */
    public int sessionCount() {
        return sessions.size();
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            loop.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (long id : List.copyOf(sessions.keySet())) {
            stop(id);
        }
        for (Thread t : List.copyOf(threads.values())) {
            try {
                t.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        rdma.cm().rdma_destroy_id(listenId);
        events.close();
        LOG.info("valet-donor RDMA listener stopped");
    }
}
