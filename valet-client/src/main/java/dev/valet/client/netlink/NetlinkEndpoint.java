package dev.valet.client.netlink;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One end of a netlink conversation with the kernel: datagrams out, datagrams in. {@link NetlinkSocket} is the
 * real one; tests put a simulated driver behind this interface. {@link #send} and {@link #receive} may be called
 * from two different threads at once (a sender and a receiver), each with its own buffer.
 */
public interface NetlinkEndpoint extends AutoCloseable {
    /** {@link #receive}: nothing arrived within the receive timeout. */
    int RECEIVE_TIMEOUT = -1;
    /** {@link #receive}: the kernel dropped messages for lack of receive-buffer space (ENOBUFS). */
    int RECEIVE_OVERRUN = -2;
    /** {@link #receive}: a datagram from another process, not the kernel, was dropped (simulations only). */
    int RECEIVE_IGNORED = -3;

    /** This end's netlink port id. */
    int portId();

    /** Sends {@code buffer[offset, offset + length)} (direct, native order) to the kernel as one datagram. */
    void send(ByteBuffer buffer, int offset, int length) throws IOException;

    /**
     * Receives one datagram into {@code buffer} (direct, native order) from index 0; returns its length, or one of
     * the negative {@code RECEIVE_*} codes.
     *
     * @throws MalformedMessageException when the datagram was larger than the buffer (it is lost)
     */
    int receive(ByteBuffer buffer) throws IOException;

    @Override
    void close();
}
