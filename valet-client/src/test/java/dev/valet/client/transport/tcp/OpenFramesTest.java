package dev.valet.client.transport.tcp;

import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** What requests ready together become: which frames, in which order (no donor: the frames are looked at). */
class OpenFramesTest {
    private static final int MAX_PAGES = 8;

    private final PendingRequests pool = new PendingRequests(DonorAddress.parse("127.0.0.1:1"), m -> { });
    private final AtomicLong ids = new AtomicLong(1);
    private final OpenFrames frames = new OpenFrames(pool, ids::getAndIncrement);
    private final byte[] page = new byte[FrameHeader.PAGE_SIZE];

    private void write(long slab, long first, int count) {
        PageRequest m = pool.pageRequest().forWrite(slab, count, encoder -> {
            for (int i = 0; i < count; i++) {
                encoder.add(first + i, 1, 0, page, 0);
            }
        }, error -> { });
        frames.add(m, MAX_PAGES, false, UnpooledByteBufAllocator.DEFAULT);
    }

    private void read(long slab, long page) {
        frames.add(pool.pageRequest().forRead(slab, new long[] {page}, 1, (pages, error) -> { }), MAX_PAGES, false,
                UnpooledByteBufAllocator.DEFAULT);
    }

    /** Every frame closed so far, oldest first, as "W slab:pages" or "R slab:pages". */
    private List<String> sent() {
        frames.closeAll();
        List<String> out = new ArrayList<>();
        for (PageFrame f; (f = frames.pollClosed()) != null; ) {
            ByteBuf frame = f.finish();
            StringBuilder s = new StringBuilder(f.isWrite() ? "W " : "R ").append(f.slabId).append(':');
            int body = frame.readerIndex() + FrameHeader.SIZE;
            int count = frame.getInt(body + 8);
            for (int i = 0; i < count; i++) {
                s.append(i == 0 ? "" : ",").append(f.isWrite()
                        ? frame.getInt(body + PageBatch.HEADER_SIZE + i * PageBatch.ENTRY_SIZE)
                        : frame.getInt(body + 12 + 4 * i));
            }
            out.add(s.toString());
            frame.release();
        }
        return out;
    }

    @Test
    void requestsForOneSlabShareAFrameAndOtherSlabsGetTheirOwn() {
        write(1, 0, 1);
        write(2, 0, 1);
        write(1, 5, 2);
        read(2, 3);
        read(2, 4);
        assertThat(sent()).containsExactly("W 1:0,5,6", "W 2:0", "R 2:3,4");
    }

    @Test
    void aReadBetweenTwoWritesOfItsSlabKeepsItsPlace() {
        write(1, 0, 1);
        read(1, 1);
        write(1, 1, 1);
        assertThat(sent()).containsExactly("W 1:0", "R 1:1", "W 1:1");
    }

    @Test
    void aWriteOfAPageAlreadyInTheFrameStartsTheNextFrameAfterIt() {
        write(1, 0, 2);
        write(1, 1, 1);
        write(1, 2, 1);
        assertThat(sent()).containsExactly("W 1:0,1", "W 1:1,2");
    }

    @Test
    void aFullFrameClosesWithEveryOlderFrameAheadOfIt() {
        write(2, 0, 1);
        write(1, 0, 2);
        write(1, 2, 2);   // fills slab 1's frame (ROOM_PAGES): it goes, after slab 2's older frame
        write(1, 4, OpenFrames.ROOM_PAGES + 1); // more than a frame's room: a frame of its own, at once
        write(1, 9, 1);
        write(2, 1, 1);
        assertThat(OpenFrames.ROOM_PAGES).isEqualTo(4);
        assertThat(sent()).containsExactly("W 2:0", "W 1:0,1,2,3", "W 1:4,5,6,7,8", "W 1:9", "W 2:1");
    }

    @Test
    void moreSlabsThanSlotsCloseTheOldestFirst() {
        for (int slab = 0; slab <= OpenFrames.SLOTS; slab++) {
            write(slab, 0, 1);
        }
        write(0, 1, 1);
        List<String> s = sent();
        assertThat(s).hasSize(OpenFrames.SLOTS + 2);
        assertThat(s.get(0)).isEqualTo("W 0:0");
        assertThat(s.get(s.size() - 1)).isEqualTo("W 0:1");
    }
}
