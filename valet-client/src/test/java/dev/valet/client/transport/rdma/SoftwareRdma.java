package dev.valet.client.transport.rdma;

import dev.valet.common.rdma.MemoryRegion;
import dev.valet.common.rdma.NativeMemory;
import dev.valet.common.rdma.SendQueue;
import dev.valet.common.rdma.VerbsLayout;

import java.util.ArrayList;
import java.util.List;

/**
 * A send queue carried out in software, for tests on a host without RDMA: posted work requests are read back from
 * native memory as a device would, kept in order, and {@link #run} performs them (RDMA WRITE copies local to
 * remote, RDMA READ remote to local; remote addresses are plain addresses of this process) and returns the ids of
 * the signaled ones, as their completions.
 */
final class SoftwareRdma implements SendQueue {
    record Wr(long wrId, int opcode, boolean signaled, long local, int length, long remote) {
    }

    private final List<Wr> posted = new ArrayList<>();
    private int posts;
    private int maxPending;

    @Override
    public MemoryRegion register(long address, long length, int access) {
        return new MemoryRegion(0, address, length, 1, 2);
    }

    @Override
    public int postSend(long firstWr) {
        posts++;
        for (long wr = firstWr; wr != 0; wr = NativeMemory.getAddress(wr, VerbsLayout.SEND_WR_NEXT)) {
            long sge = NativeMemory.getAddress(wr, VerbsLayout.SEND_WR_SG_LIST);
            posted.add(new Wr(NativeMemory.getLong(wr, VerbsLayout.SEND_WR_ID),
                    NativeMemory.getInt(wr, VerbsLayout.SEND_WR_OPCODE),
                    (NativeMemory.getInt(wr, VerbsLayout.SEND_WR_SEND_FLAGS) & VerbsLayout.IBV_SEND_SIGNALED) != 0,
                    NativeMemory.getLong(sge, VerbsLayout.SGE_ADDR), NativeMemory.getInt(sge, VerbsLayout.SGE_LENGTH),
                    NativeMemory.getLong(wr, VerbsLayout.SEND_WR_REMOTE_ADDR)));
        }
        maxPending = Math.max(maxPending, posted.size());
        return 0;
    }

    /** Performs every work request posted so far, in order; the ids of the signaled ones. */
    List<Long> run() {
        List<Long> completed = new ArrayList<>();
        for (Wr wr : posted) {
            if (wr.opcode() == VerbsLayout.IBV_WR_RDMA_WRITE) {
                NativeMemory.copy(wr.local(), wr.remote(), wr.length());
            } else if (wr.opcode() == VerbsLayout.IBV_WR_RDMA_READ) {
                NativeMemory.copy(wr.remote(), wr.local(), wr.length());
            } else {
                throw new AssertionError("opcode " + wr.opcode() + " in a page transfer");
            }
            if (wr.signaled()) {
                completed.add(wr.wrId());
            }
        }
        posted.clear();
        return completed;
    }

    /** Work requests posted and not run yet. */
    List<Wr> posted() {
        return posted;
    }

    /** Calls of {@link #postSend}: one per chain. */
    int posts() {
        return posts;
    }

    @Override
    public String describe() {
        return "software queue, " + posted.size() + " work requests posted";
    }
}
