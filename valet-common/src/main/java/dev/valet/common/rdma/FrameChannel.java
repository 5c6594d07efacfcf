package dev.valet.common.rdma;

import dev.valet.common.posix.AnonymousMemory;
import io.netty.buffer.ByteBuf;

import java.io.IOException;

/**
 * Protocol frames carried by two-sided SEND/RECV on a {@link QueuePair}: one registered send buffer (one frame
 * outstanding at a time) and {@code recvCount} receive buffers, each holding one whole frame. Work request ids:
 * {@link #SEND_WR_ID} for the send, {@link #RECV_WR_ID} | i for receive buffer i; others are the caller's.
 */
public final class FrameChannel implements AutoCloseable {
    public static final long SEND_WR_ID = 1L << 62;
    public static final long RECV_WR_ID = 2L << 62;

    private final QueuePair qp;
    private final AnonymousMemory memory;
    private final MemoryRegion region;
    private final int sendBytes;
    private final int recvBytes;
    private final int recvCount;
    private final SendWorkRequests send = new SendWorkRequests(1);
    private final long recvWr = NativeMemory.allocate(VerbsLayout.RECV_WR_SIZE);
    private final long recvSge = NativeMemory.allocate(VerbsLayout.SGE_SIZE);

    public FrameChannel(QueuePair qp, int sendBytes, int recvBytes, int recvCount) throws IOException {
        this.qp = qp;
        this.sendBytes = sendBytes;
        this.recvBytes = recvBytes;
        this.recvCount = recvCount;
        this.memory = AnonymousMemory.map((long) sendBytes + (long) recvBytes * recvCount, false);
        this.region = qp.register(memory.address(), memory.size(), VerbsLayout.IBV_ACCESS_LOCAL_WRITE);
        NativeMemory.putAddress(recvWr, VerbsLayout.RECV_WR_SG_LIST, recvSge);
        NativeMemory.putInt(recvWr, VerbsLayout.RECV_WR_NUM_SGE, 1);
        NativeMemory.putAddress(recvWr, VerbsLayout.RECV_WR_NEXT, 0);
        for (int i = 0; i < recvCount; i++) {
            repost(i);
        }
    }

    /** Whether a completion's work request id is one of this channel's receives. */
    public static boolean isReceive(long wrId) {
        return (wrId & (3L << 62)) == RECV_WR_ID;
    }

    /** The receive buffer index of a receive completion. */
    public static int receiveIndex(long wrId) {
        return (int) (wrId & 0xFFFF_FFFFL);
    }

    /** Copies the readable bytes of {@code frame} to the send buffer and posts a signaled SEND. */
    public void send(ByteBuf frame) throws IOException {
        int length = frame.readableBytes();
        if (length > sendBytes) {
            throw new IOException("frame of " + length + " bytes is larger than the RDMA control buffer ("
                    + sendBytes + ")");
        }
        frame.getBytes(frame.readerIndex(), memory.buffer(), 0, length);
        send.set(0, SEND_WR_ID, VerbsLayout.IBV_WR_SEND, true, memory.address(), length, region.lkey(), 0, 0);
        send.chain(1);
        int err = qp.postSend(send.address(0));
        if (err != 0) {
            throw new IOException("ibv_post_send(SEND) failed: errno " + err);
        }
    }

    /** The bytes receive buffer {@code index} got (valid until {@link #repost}). */
    public ByteBuf received(int index, int byteLength) {
        return memory.buffer().slice(sendBytes + index * recvBytes, Math.min(byteLength, recvBytes));
    }

    /** Gives receive buffer {@code index} back to the QP. */
    public void repost(int index) throws IOException {
        if (index < 0 || index >= recvCount) {
            throw new IOException("receive buffer " + index + " outside 0.." + (recvCount - 1));
        }
        NativeMemory.putLong(recvSge, VerbsLayout.SGE_ADDR, memory.address() + sendBytes + (long) index * recvBytes);
        NativeMemory.putInt(recvSge, VerbsLayout.SGE_LENGTH, recvBytes);
        NativeMemory.putInt(recvSge, VerbsLayout.SGE_LKEY, region.lkey());
        NativeMemory.putLong(recvWr, VerbsLayout.RECV_WR_ID, RECV_WR_ID | index);
        int err = qp.postRecv(recvWr);
        if (err != 0) {
            throw new IOException("ibv_post_recv failed: errno " + err);
        }
    }

    /** Frees the buffers; call after the QP is closed (which deregistered them). */
    @Override
    public void close() {
        send.close();
        NativeMemory.free(recvWr);
        NativeMemory.free(recvSge);
        memory.close();
    }
}
