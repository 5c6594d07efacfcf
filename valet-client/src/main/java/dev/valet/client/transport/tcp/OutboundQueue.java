package dev.valet.client.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.internal.PlatformDependent;

import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The frames of one connection on their way to its event loop: any thread queues, the event loop writes every
 * frame queued by the time it runs and flushes once. Requests for one donor that are ready together so share one
 * wake-up of the event loop and one socket write, and queueing allocates nothing (netty's own cross-thread write
 * allocates a task per frame and wakes the loop for each). Before it writes, the event loop asks the connection for
 * the frames still open for more requests ({@link OpenFrames}): they close and go out with the rest.
 */
final class OutboundQueue {
    /** Frames queued at most; beyond it a frame takes netty's own cross-thread path. */
    static final int CAPACITY = 4096;

    private final Queue<ByteBuf> frames = PlatformDependent.newFixedMpscQueue(CAPACITY);
    /** A drain is queued on the event loop and has not started yet. */
    private final AtomicBoolean drainQueued = new AtomicBoolean();
    /** Queues (through {@link #send}) the frames left open; run by the drain before it writes. */
    private final Runnable collect;
    private volatile Channel channel;
    /** The event loop is in {@link #drain} (read and written by the event loop only). */
    private boolean draining;
    private final Runnable drain = this::drain;

    OutboundQueue(Runnable collect) {
        this.collect = collect;
    }

    /** Queues {@code frame} for {@code ch}'s event loop; the frame is released if the channel closes first. */
    void send(Channel ch, ByteBuf frame) {
        channel = ch;
        if (!frames.offer(frame)) {
            ch.writeAndFlush(frame, ch.voidPromise());
            return;
        }
        wake(ch);
    }

    /** Makes sure a drain runs on {@code ch}'s event loop after this call (one is queued, or is running now). */
    void wake(Channel ch) {
        channel = ch;
        if (draining && ch.eventLoop().inEventLoop()) {
            return; // queued by the drain's own collect: the drain writes it
        }
        if (drainQueued.compareAndSet(false, true)) {
            try {
                ch.eventLoop().execute(drain);
            } catch (RejectedExecutionException e) {
                drainQueued.set(false);
                collect.run(); // the loop is gone, the channel with it: what is open fails as it is sent
                releaseAll();
            }
        }
    }

    /** On the event loop: closes the open frames, writes every queued frame, then flushes once. */
    private void drain() {
        drainQueued.set(false); // before collecting: a frame queued or opened from now on queues another drain
        Channel ch = channel;
        draining = true;
        try {
            collect.run();
        } finally {
            draining = false;
        }
        boolean open = ch.isActive();
        int written = 0;
        ByteBuf frame;
        while ((frame = frames.poll()) != null) {
            if (open) {
                ch.write(frame, ch.voidPromise());
                written++;
            } else {
                frame.release();
            }
        }
        if (written > 0) {
            ch.flush();
        }
    }

    /** Releases every frame still queued (the connection is closed). */
    void releaseAll() {
        ByteBuf frame;
        while ((frame = frames.poll()) != null) {
            frame.release();
        }
    }
}
