package dev.valet.donor.store;

import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.protocol.RemoteSlab;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The slab layout an RDMA client writes and reads one-sidedly (docs/protocol.md, "Slab layout"): pages, then one
 * big-endian {@code pageIndex, crc32c, version} entry per page, at the offsets {@link RemoteSlab} computes.
 */
class SlabMetadataLayoutTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;

    @Test
    void storedVersionAndCrcLieInTheMetadataAreaWhereRemoteSlabPointsAndLendingCountsOnlyPages() throws Exception {
        try (SlabStore store = new SlabStore(64 * PAGE, 16 * PAGE, false)) {
            Slab slab = store.allocate("c", 7, 8 * PAGE);
            assertThat(slab.sizeBytes()).isEqualTo(8L * PAGE);
            assertThat(slab.mappedBytes()).isEqualTo(8L * PAGE + 8 * 32);
            assertThat(store.lentBytes()).isEqualTo(8L * PAGE);
            RemoteSlab remote = new RemoteSlab(7, slab.address(), 0, slab.pageCount());
            ByteBuf memory = slab.pages();

            // Never written: all zeros in the area; the slab reports version 0 and the zero-page CRC.
            assertThat(memory.getLong((int) (remote.metadataAddress(5) - slab.address()) + 8)).isZero();
            assertThat(slab.version(5)).isZero();
            assertThat(slab.crc(5)).isEqualTo(PageChecksum.ZERO_PAGE_CRC);

            byte[] data = new byte[PAGE];
            data[0] = 42;
            int crc = PageChecksum.crc32c(data, 0);
            synchronized (slab.lock()) {
                byte[] tag = new byte[16];
                tag[0] = 7;
                tag[15] = 8;
                slab.store(5, 9, crc, Unpooled.wrappedBuffer(tag), 0, Unpooled.wrappedBuffer(data), 0);
            }
            int meta = (int) (remote.metadataAddress(5) - slab.address());
            assertThat(meta).isEqualTo(slab.metadataOffset() + 5 * 32);
            assertThat(memory.getInt(meta)).isEqualTo(5);
            assertThat(memory.getInt(meta + 4)).isEqualTo(crc);
            assertThat(memory.getLong(meta + 8)).isEqualTo(9);
            assertThat(memory.getByte(meta + 16)).isEqualTo((byte) 7);
            assertThat(memory.getByte(meta + 31)).isEqualTo((byte) 8);
            assertThat(slab.tagIndex(5)).isEqualTo(meta + 16);
            assertThat(memory.getByte((int) (remote.dataAddress(5) - slab.address()))).isEqualTo((byte) 42);

            // What an RDMA WRITE of an entry does (no donor code involved) is what the TCP side then reads.
            memory.setInt(meta, 5);
            memory.setInt(meta + 4, 0x1234_5678);
            memory.setLong(meta + 8, 11);
            assertThat(slab.version(5)).isEqualTo(11);
            assertThat(slab.crc(5)).isEqualTo(0x1234_5678);
            // Neighbours untouched.
            assertThat(slab.version(4)).isZero();
            assertThat(slab.version(6)).isZero();
        }
    }
}
