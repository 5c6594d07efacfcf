package dev.valet.client.netlink;

import dev.valet.common.posix.LibC;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;

/**
 * Request-and-answer generic netlink over one {@link NetlinkEndpoint}: build a request with {@link #request},
 * then {@link #transact} sends it and hands every reply message to a handler until the kernel's acknowledgement
 * (or, for a dump, NLMSG_DONE); an error answer becomes a {@link NetlinkErrnoException} with the kernel's
 * extended-ack message when it gave one. For control requests (family lookup, a family's own commands), where a
 * little allocation does not matter; a data path drives an endpoint with the flyweights directly. Not thread-safe.
 */
public final class GenericNetlink implements AutoCloseable {
    /** Room for any control request or answer (family descriptions with their op lists are the largest). */
    public static final int BUFFER_BYTES = 64 * 1024;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    static final Duration POLL = Duration.ofMillis(250);

    private final NetlinkEndpoint endpoint;
    private final ByteBuffer tx = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final ByteBuffer rx = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.nativeOrder());
    private final MessageWriter writer = new MessageWriter().wrap(tx);
    private final MessageReader reader = new MessageReader();
    private final AttributeReader attributes = new AttributeReader();
    private Duration timeout = DEFAULT_TIMEOUT;
    private int seq;
    private int requestSeq;
    private int requestFlags;
    private String requestName = "request";

    /** A family as nlctrl describes it. */
    public record Family(String name, int id, int version, int maxAttribute) {
    }

    /** Handles one reply message of a transaction. */
    @FunctionalInterface
    public interface ReplyHandler {
        void reply(MessageReader message) throws IOException;
    }

    public GenericNetlink(NetlinkEndpoint endpoint) {
        this.endpoint = endpoint;
        this.seq = (int) (System.nanoTime() & 0x3fffffff);
    }

    /** A generic netlink socket of its own, polling every 250ms so that timeouts can be noticed. */
    public static GenericNetlink open() throws IOException {
        NetlinkSocket socket = NetlinkSocket.open(Netlink.NETLINK_GENERIC);
        try {
            socket.setReceiveTimeout(POLL);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new GenericNetlink(socket);
    }

    public NetlinkEndpoint endpoint() {
        return endpoint;
    }

    /** How long {@link #transact} waits for the kernel's answer. */
    public GenericNetlink timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    /**
     * Starts a request (NLM_F_REQUEST plus {@code flags}) to {@code family}; add attributes to the returned writer,
     * then call {@link #transact}. {@code name} names the request in error messages ("CREATE", ...).
     */
    public MessageWriter request(String name, int family, int cmd, int version, int flags) {
        requestSeq = nextSeq();
        requestFlags = Netlink.NLM_F_REQUEST | flags;
        requestName = name;
        return writer.reset().begin(family, requestFlags, requestSeq, endpoint.portId()).genl(cmd, version);
    }

    /**
     * Sends the request begun by {@link #request} and passes each reply to {@code handler} (may be null) until the
     * acknowledgement (ask for one with NLM_F_ACK) or NLMSG_DONE (for NLM_F_DUMP).
     *
     * @throws NetlinkErrnoException when the kernel answers with an error
     * @throws IOException           when it does not answer within the timeout, or the answer does not parse
     */
    public void transact(ReplyHandler handler) throws IOException {
        int length = writer.finish();
        endpoint.send(tx, writer.offset(), length);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int n = endpoint.receive(rx);
            if (n == NetlinkEndpoint.RECEIVE_TIMEOUT || n == NetlinkEndpoint.RECEIVE_IGNORED) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException("no answer from the kernel to " + requestName + " within "
                            + timeout.toMillis() + "ms");
                }
                continue;
            }
            if (n == NetlinkEndpoint.RECEIVE_OVERRUN) {
                throw new IOException("answers to " + requestName + " were lost: netlink receive buffer overrun");
            }
            reader.wrap(rx, 0, n);
            while (reader.next()) {
                if (reader.seq() != requestSeq) {
                    continue; // a late answer to an earlier request that timed out
                }
                int type = reader.type();
                if (type == Netlink.NLMSG_ERROR) {
                    int error = reader.error();
                    if (error == 0) {
                        return;
                    }
                    throw errorFor(requestName, -error, reader.errorMessage());
                }
                if (type == Netlink.NLMSG_DONE) {
                    return;
                }
                if (type == Netlink.NLMSG_NOOP) {
                    continue;
                }
                if (handler != null) {
                    handler.reply(reader);
                }
                if ((requestFlags & (Netlink.NLM_F_ACK | Netlink.NLM_F_DUMP)) == 0
                        && (reader.flags() & Netlink.NLM_F_MULTI) == 0) {
                    return; // a single answer, and no acknowledgement was asked for
                }
            }
        }
    }

    /** Looks a family up by name with CTRL_CMD_GETFAMILY. */
    public Family resolve(String name) throws IOException {
        return resolve(name, null);
    }

    /**
     * Looks a family up by name with CTRL_CMD_GETFAMILY; {@code hint} (or null) ends the message of the
     * {@link FamilyNotFoundException} when the kernel has no such family: how to load the module that registers it.
     */
    public Family resolve(String name, String hint) throws IOException {
        request("CTRL_CMD_GETFAMILY(" + name + ")", Netlink.GENL_ID_CTRL, Netlink.CTRL_CMD_GETFAMILY,
                Netlink.CTRL_VERSION, Netlink.NLM_F_ACK).putString(Netlink.CTRL_ATTR_FAMILY_NAME, name);
        Family[] found = new Family[1];
        try {
            transact(message -> {
                int id = -1;
                int version = 0;
                int maxAttribute = 0;
                String familyName = null;
                message.attributes(attributes);
                while (attributes.next()) {
                    switch (attributes.type()) {
                        case Netlink.CTRL_ATTR_FAMILY_ID -> id = attributes.u16();
                        case Netlink.CTRL_ATTR_FAMILY_NAME -> familyName = attributes.string();
                        case Netlink.CTRL_ATTR_VERSION -> version = attributes.u32();
                        case Netlink.CTRL_ATTR_MAXATTR -> maxAttribute = attributes.u32();
                        default -> {
                        }
                    }
                }
                if (id < 0) {
                    throw new MalformedMessageException("nlctrl's answer for " + name + " has no CTRL_ATTR_FAMILY_ID");
                }
                found[0] = new Family(familyName != null ? familyName : name, id, version, maxAttribute);
            });
        } catch (NetlinkErrnoException e) {
            if (e.errno() == Netlink.ENOENT) {
                throw new FamilyNotFoundException(name, hint);
            }
            throw e;
        }
        if (found[0] == null) {
            throw new IOException("nlctrl acknowledged CTRL_CMD_GETFAMILY(" + name + ") without describing it");
        }
        return found[0];
    }

    /** The exception for a request the kernel refused: "REQUEST failed: strerror (errno N)", and its message. */
    public static NetlinkErrnoException errorFor(String request, int errno, String kernelMessage) {
        String text = request + " failed: " + LibC.INSTANCE.strerror(errno) + " (errno " + errno + ")";
        return new NetlinkErrnoException(MessageReader.withKernelMessage(text, kernelMessage), errno);
    }

    private int nextSeq() {
        seq = (seq + 1) & 0x7fffffff;
        if (seq == 0) {
            seq = 1;
        }
        return seq;
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
