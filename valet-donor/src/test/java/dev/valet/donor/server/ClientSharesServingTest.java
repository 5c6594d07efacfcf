package dev.valet.donor.server;

import dev.valet.common.config.LimitsConfig;
import dev.valet.common.protocol.ClientShares;
import dev.valet.common.protocol.ErrorCode;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.HelloOk;
import dev.valet.common.protocol.Opcode;
import dev.valet.donor.memory.FreeMemoryTrend;
import dev.valet.donor.server.EmbeddedDonorClient.Reply;
import dev.valet.donor.store.SlabStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CLIENT_SHARES through the real decoder, handler and slab store: who holds how much, the largest 32 when more
 * identities hold slabs, and the usual refusals.
 */
class ClientSharesServingTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final long MAX_SLAB = 16 * PAGE;

    private final List<EmbeddedDonorClient> clients = new ArrayList<>();
    private SlabStore store;
    private Donor donor;

    private void startDonor(long limit, int maxClients) {
        store = new SlabStore(limit, MAX_SLAB, false);
        LimitsConfig defaults = LimitsConfig.DEFAULTS;
        LimitsConfig limits = new LimitsConfig(maxClients, defaults.maxSlabsPerClient(),
                defaults.maxInFlightPerConnection(), defaults.idleTimeout(), defaults.handshakeTimeout());
        donor = new Donor(store, new FreeMemoryTrend(0.7, 8), new HelloOk(1, PAGE, 64 * 1024, MAX_SLAB),
                EmbeddedDonorClient.NO_EVICTION, null, limits);
    }

    @AfterEach
    void tearDown() {
        clients.forEach(EmbeddedDonorClient::close);
        if (store != null) {
            store.close();
        }
    }

    private EmbeddedDonorClient helloed(String identity) {
        EmbeddedDonorClient c = new EmbeddedDonorClient(donor);
        clients.add(c);
        assertThat(c.hello(identity).opcode()).isEqualTo(Opcode.HELLO_OK);
        return c;
    }

    private static ClientShares shares(EmbeddedDonorClient c) {
        Reply reply = c.callEmpty(Opcode.CLIENT_SHARES);
        assertThat(reply.opcode()).as("reply to CLIENT_SHARES").isEqualTo(Opcode.CLIENT_SHARES_OK);
        return reply.decode(ClientShares::decode);
    }

    @Test
    void eachIdentityIsShownWithItsSlabsAndBytesLargestFirst() {
        startDonor(1 << 20, 32);
        EmbeddedDonorClient a = helloed("alice");
        EmbeddedDonorClient b = helloed("bob");
        helloed("carol"); // connected, holds nothing: not a share
        assertThat(shares(a)).isEqualTo(new ClientShares(0, List.of()));

        assertThat(a.alloc(1, 4 * PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        assertThat(b.alloc(1, 8 * PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        assertThat(b.alloc(2, 8 * PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);

        assertThat(shares(a)).as("any client sees every identity's share").isEqualTo(new ClientShares(2, List.of(
                new ClientShares.Share("bob", 2, 16 * PAGE), new ClientShares.Share("alice", 1, 4 * PAGE))));

        assertThat(b.free(1).opcode()).isEqualTo(Opcode.FREE_SLAB_OK);
        b.close();
        assertThat(shares(a)).as("a disconnected identity still holds its slab").isEqualTo(new ClientShares(2,
                List.of(new ClientShares.Share("bob", 1, 8 * PAGE), new ClientShares.Share("alice", 1, 4 * PAGE))));
    }

    @Test
    void withMoreThan32IdentitiesTheLargest32AreListedAndAllCounted() {
        startDonor(64L << 20, 64);
        for (int i = 0; i < 40; i++) {
            EmbeddedDonorClient c = helloed(String.format("client-%02d", i));
            // client-i holds (i % 16 + 1) pages: two identities each hold 9..16 pages, three each 1..8; the
            // largest 32 go down to the first (by name) of the three with 3 pages, client-02.
            assertThat(c.alloc(7, (i % 16 + 1) * (long) PAGE).opcode()).isEqualTo(Opcode.ALLOC_SLAB_OK);
        }

        ClientShares got = shares(clients.get(0));

        assertThat(got.identityCount()).isEqualTo(40);
        assertThat(got.shares()).hasSize(ClientShares.MAX_SHARES);
        assertThat(got.shares().get(0)).isEqualTo(new ClientShares.Share("client-15", 1, 16 * PAGE));
        assertThat(got.shares().get(1)).isEqualTo(new ClientShares.Share("client-31", 1, 16 * PAGE));
        assertThat(got.shares()).extracting(ClientShares.Share::bytes).allMatch(b -> b >= 3L * PAGE);
        assertThat(got.shares().get(31)).isEqualTo(new ClientShares.Share("client-02", 1, 3 * PAGE));
    }

    @Test
    void aBodyOrAMissingHelloIsRefusedAndTheConnectionGoesOn() {
        startDonor(1 << 20, 32);
        EmbeddedDonorClient early = new EmbeddedDonorClient(donor);
        clients.add(early);
        Reply before = early.callEmpty(Opcode.CLIENT_SHARES);
        assertThat(before.opcode()).isEqualTo(Opcode.ERROR);
        assertThat(before.error().code()).isEqualTo(ErrorCode.HELLO_REQUIRED);

        EmbeddedDonorClient c = helloed("alice");
        Reply withBody = c.call(9, EmbeddedDonorClient.rawFrame(Opcode.CLIENT_SHARES.code(), 9, new byte[2]));
        assertThat(withBody.opcode()).isEqualTo(Opcode.ERROR);
        assertThat(withBody.error().code()).isEqualTo(ErrorCode.BAD_FRAME);
        assertThat(withBody.error().message()).contains("CLIENT_SHARES body is 2 bytes");
        assertThat(shares(c).identityCount()).isZero();
    }
}
