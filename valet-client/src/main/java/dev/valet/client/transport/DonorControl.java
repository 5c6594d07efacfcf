package dev.valet.client.transport;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.AuthProof;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.DonorStats;
import dev.valet.common.protocol.ErrorReply;
import dev.valet.common.protocol.Frames;
import dev.valet.common.protocol.Heartbeat;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.IndexRequest;
import dev.valet.common.protocol.MessageBody;
import dev.valet.common.protocol.Opcode;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.ProtocolException;
import dev.valet.common.protocol.SlabAlloc;
import dev.valet.common.protocol.SlabList;
import dev.valet.common.protocol.SlabRef;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The protocol's control requests and reply rules, the same over every transport: the handshake's sequence, what
 * each request sends and how its reply is decoded and checked, how a reply becomes a refusal, and the page count a
 * request may carry. A transport supplies one thing, {@link Requests#request}: send a frame, match its reply, and
 * hand the reply to {@link #reply}. The same fault therefore raises the same exception over TCP and RDMA.
 */
public final class DonorControl {

    /** One transport's way to send a control request and get its reply. */
    public interface Requests {
        /**
         * Sends {@code opcode} with {@code body} (null: none) and completes with what {@link #reply} makes of the
         * reply ({@code decode} applied to a success). {@code urgent} requests (they change nothing) may overtake
         * queued ones.
         */
        <T> CompletableFuture<T> request(Opcode opcode, MessageBody body, Function<ByteBuf, T> decode, boolean urgent);
    }

    private final Requests requests;

    public DonorControl(Requests requests) {
        this.requests = requests;
    }

    /**
     * HELLO, and with a secret the rest of the mutual handshake: check the donor's proof, send AUTH, await
     * AUTH_OK. Completes with the donor's HELLO_OK once the connection may carry requests.
     */
    public CompletableFuture<HelloOk> handshake(ClientHandshake handshake) {
        return requests.request(Opcode.HELLO, handshake.hello(), HelloOk::decode, false).thenCompose(ok -> {
            AuthProof proof = handshake.answer(ok);
            if (proof == null) {
                return CompletableFuture.completedFuture(ok);
            }
            return requests.request(Opcode.AUTH, proof, body -> {
                Frames.requireEmpty(body, "AUTH_OK");
                return ok;
            }, false).exceptionally(e -> {
                throw handshake.refusedAfterAuth(e instanceof CompletionException && e.getCause() != null
                        ? e.getCause() : e);
            });
        });
    }

    public CompletableFuture<DonorStats> stats() {
        return requests.request(Opcode.STATS, null, DonorStats::decode, true);
    }

    /** CLIENT_SHARES: what each client identity holds on the donor (a donor before it answers UNSUPPORTED_OPCODE). */
    public CompletableFuture<ClientShares> clientShares() {
        return requests.request(Opcode.CLIENT_SHARES, null, ClientShares::decode, false);
    }

    public CompletableFuture<Void> allocateSlab(long slabId, long slabBytes) {
        return requests.request(Opcode.ALLOC_SLAB, new SlabAlloc(slabId, slabBytes), body -> {
            requireSlab(SlabRef.decode(body, "ALLOC_SLAB_OK"), slabId, "ALLOC_SLAB_OK");
            return null;
        }, false);
    }

    public CompletableFuture<Void> freeSlab(long slabId) {
        return requests.request(Opcode.FREE_SLAB, new SlabRef(slabId), body -> {
            requireSlab(SlabRef.decode(body, "FREE_SLAB_OK"), slabId, "FREE_SLAB_OK");
            return null;
        }, false);
    }

    private static void requireSlab(SlabRef ref, long slabId, String what) {
        if (ref.slabId() != slabId) {
            throw ProtocolException.badBody(what + " for slab " + ref.slabId() + ", expected " + slabId);
        }
    }

    public CompletableFuture<SlabList> listSlabs() {
        return requests.request(Opcode.LIST_SLABS, null, SlabList::decode, false);
    }

    public CompletableFuture<PageIndex> readIndex(long slabId, long firstPage, int count) {
        return requests.request(Opcode.READ_INDEX, new IndexRequest(slabId, firstPage, count), body -> {
            PageIndex index = PageIndex.decode(body);
            if (index.slabId() != slabId || index.firstPage() != firstPage || index.count() != count) {
                throw ProtocolException.badBody("READ_INDEX_OK for slab " + index.slabId() + " pages "
                        + index.firstPage() + "+" + index.count() + ", expected " + slabId + " " + firstPage + "+"
                        + count);
            }
            return index;
        }, false);
    }

    /** Round trip time of a HEARTBEAT, in nanoseconds (the clock is read after the echo). */
    public CompletableFuture<Long> heartbeat() {
        return requests.request(Opcode.HEARTBEAT, new Heartbeat(System.nanoTime()),
                body -> System.nanoTime() - Heartbeat.decode(body).senderNanos(), true);
    }

    /**
     * A reply with wire opcode {@code opcode} to a request expecting {@code expected}: the donor's refusal (ERROR,
     * as a {@link DonorException}) or null when it is the expected reply. Anything else is a protocol error
     * ({@link ProtocolException}): the transport closes the connection.
     */
    public static DonorException refusal(DonorAddress donor, int opcode, Opcode expected, ByteBuf body) {
        if (opcode == Opcode.ERROR.code()) {
            ErrorReply error = ErrorReply.decode(body);
            return new DonorException(donor.toString(), error.code(), error.message());
        }
        if (opcode != expected.code()) {
            Opcode op = Opcode.fromCode(opcode);
            throw ProtocolException.badBody("got " + (op != null ? op : "unknown opcode " + opcode)
                    + " in reply to a request expecting " + expected);
        }
        return null;
    }

    /** Refuses a page request of {@code count} pages on a connection that allows {@code max}. */
    public static void checkPageCount(int count, int max) {
        if (count < 1 || count > max) {
            throw new IllegalArgumentException(count + " pages in one request; this connection allows 1.." + max);
        }
    }
}
