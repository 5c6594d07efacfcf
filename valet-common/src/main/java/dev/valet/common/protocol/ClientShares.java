package dev.valet.common.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * CLIENT_SHARES_OK: how much of a donor's memory each client identity holds, for operators (Gengar's per-client
 * view). Body: {@code u32 identityCount, u8 count (0..32), count x (u8 identityLength (1..255), identity (UTF-8),
 * u32 slabCount, u64 bytes)}: the {@code count} identities holding the most bytes, largest first, out of the
 * {@code identityCount} that hold any slab. At most {@value #MAX_SHARES} entries (the default
 * {@code limits.maxClients}), so the body is at most {@value #MAX_ENCODED_SIZE} bytes whatever the donor holds.
 *
 * @param identityCount identities holding at least one slab on the donor, including those not listed
 * @param shares        the largest of them, largest first
 */
public record ClientShares(int identityCount, List<Share> shares) implements MessageBody {
    public static final int MAX_SHARES = 32;
    private static final int ENTRY_FIXED_SIZE = 1 + 4 + 8;
    public static final int MAX_ENCODED_SIZE = 5 + MAX_SHARES * (ENTRY_FIXED_SIZE + Hello.MAX_IDENTITY_BYTES);

    /** Largest first; equal shares by identity, so the list is the same for the same holdings. */
    private static final Comparator<Share> LARGEST_FIRST = Comparator.comparingLong(Share::bytes).reversed()
            .thenComparing(Share::identity);

    /**
     * One identity's holding.
     *
     * @param identity the client identity (its HELLO)
     * @param slabs    slabs it holds on the donor
     * @param bytes    their bytes
     */
    public record Share(String identity, int slabs, long bytes) {
        public Share {
            int len = identity.getBytes(StandardCharsets.UTF_8).length;
            if (len == 0 || len > Hello.MAX_IDENTITY_BYTES) {
                throw new IllegalArgumentException("identity must be 1.." + Hello.MAX_IDENTITY_BYTES
                        + " UTF-8 bytes, got " + len);
            }
            if (slabs < 0 || bytes < 0) {
                throw new IllegalArgumentException("share of '" + identity + "': " + slabs + " slabs, " + bytes
                        + " bytes (must not be negative)");
            }
        }
    }

    public ClientShares {
        if (shares.size() > MAX_SHARES || identityCount < shares.size()) {
            throw new IllegalArgumentException(shares.size() + " shares of " + identityCount
                    + " identities (at most " + MAX_SHARES + ", and no more than the identities)");
        }
        shares = List.copyOf(shares);
    }

    /** The reply for {@code all} the holdings of a donor: the {@value #MAX_SHARES} largest, largest first. */
    public static ClientShares largestOf(List<Share> all) {
        List<Share> sorted = new ArrayList<>(all);
        sorted.sort(LARGEST_FIRST);
        return new ClientShares(all.size(), sorted.subList(0, Math.min(MAX_SHARES, sorted.size())));
    }

    @Override
    public int encodedSize() {
        int size = 5;
        for (Share s : shares) {
            size += ENTRY_FIXED_SIZE + s.identity().getBytes(StandardCharsets.UTF_8).length;
        }
        return size;
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(identityCount);
        out.writeByte(shares.size());
        for (Share s : shares) {
            byte[] id = s.identity().getBytes(StandardCharsets.UTF_8);
            out.writeByte(id.length);
            out.writeBytes(id);
            out.writeInt(s.slabs());
            out.writeLong(s.bytes());
        }
    }

    public static ClientShares decode(ByteBuf body) {
        if (body.readableBytes() < 5 || body.readableBytes() > MAX_ENCODED_SIZE) {
            throw ProtocolException.badBody("CLIENT_SHARES_OK body is " + body.readableBytes() + " bytes (expected 5.."
                    + MAX_ENCODED_SIZE + ")");
        }
        long identityCount = body.readUnsignedInt();
        int count = body.readUnsignedByte();
        if (count > MAX_SHARES || count > identityCount || identityCount > Integer.MAX_VALUE) {
            throw ProtocolException.badBody("CLIENT_SHARES_OK lists " + count + " shares of " + identityCount
                    + " identities (at most " + MAX_SHARES + ", and no more than the identities)");
        }
        List<Share> shares = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (body.readableBytes() < 1) {
                throw ProtocolException.badBody("CLIENT_SHARES_OK ends before share " + i + " of " + count);
            }
            int len = body.readUnsignedByte();
            if (len == 0 || body.readableBytes() < len + 12) {
                throw ProtocolException.badBody("CLIENT_SHARES_OK share " + i + ": identity of " + len
                        + " bytes with " + body.readableBytes() + " bytes left (needs 1..255 and 12 more)");
            }
            String identity = WireStrings.decodeUtf8(body, len, "CLIENT_SHARES_OK identity");
            long slabs = body.readUnsignedInt();
            long bytes = body.readLong();
            if (slabs > Integer.MAX_VALUE || bytes < 0) {
                throw ProtocolException.badBody("CLIENT_SHARES_OK share of '" + identity + "': " + slabs
                        + " slabs, " + bytes + " bytes");
            }
            shares.add(new Share(identity, (int) slabs, bytes));
        }
        Frames.requireLength(body, 0, "CLIENT_SHARES_OK after its " + count + " shares");
        return new ClientShares((int) identityCount, shares);
    }
}
