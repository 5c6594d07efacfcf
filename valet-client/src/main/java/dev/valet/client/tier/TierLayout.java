package dev.valet.client.tier;

import io.netty.buffer.ByteBuf;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The host tier's memory, byte by byte, and the only code that reads or writes its bookkeeping: a descriptor of
 * the layout (as Aeron's are) plus the ordered stores that make it crash-safe. Everything is little-endian.
 *
 * <pre>
 * 0                header, 4 KiB: magic "VALETIER" (8), layout version (4), page size (4), slot count (4),
 *                  entry bytes (4), table offset (8), data offset (8); the rest zero
 * 4096             slot table: one 32-byte entry per slot: page (8), version (8), CRC-32C of the data (4),
 *                  state (4: FREE 0, DIRTY 1, CLEAN 2), reserved (8)
 * data offset      slot data, 4 KiB aligned: one 4096-byte page per slot
 * </pre>
 *
 * <p>A slot's state is stored last, after a release fence, so whatever a crash leaves behind, a slot that reads
 * DIRTY has its page, version and data in place before it (docs/host-tier.md, "Crash consistency"). Not thread
 * safe: callers hold the tier's lock.
 */
final class TierLayout {
    /** "VALETIER" read as a little-endian long. */
    static final long MAGIC = 0x5245_4954_454C_4156L;
    static final int LAYOUT_VERSION = 1;
    static final int PAGE = 4096;
    static final int HEADER_BYTES = 4096;
    static final int ENTRY_BYTES = 32;
    /** The memory states of a slot; the tier keeps finer ones on the heap ({@link SlotTable}). */
    static final int FREE = 0;
    static final int DIRTY = 1;
    static final int CLEAN = 2;

    private static final int MAGIC_AT = 0;
    private static final int VERSION_AT = 8;
    private static final int PAGE_SIZE_AT = 12;
    private static final int SLOTS_AT = 16;
    private static final int ENTRY_BYTES_AT = 20;
    private static final int TABLE_AT = 24;
    private static final int DATA_AT = 32;
    private static final int ENTRY_PAGE = 0;
    private static final int ENTRY_VERSION = 8;
    private static final int ENTRY_CRC = 16;
    private static final int ENTRY_STATE = 20;

    private final ByteBuf memory;
    /** One view of the whole memory, for the CRC (CRC32C reads ByteBuffers): made once, moved per call. */
    private final ByteBuffer view;
    private final CRC32C crc = new CRC32C();
    private final int slotCount;
    private final int dataOffset;

    private TierLayout(ByteBuf memory, int slotCount) {
        if (memory.nioBufferCount() != 1) {
            throw new IllegalArgumentException("host tier memory must be one contiguous buffer, got "
                    + memory.nioBufferCount() + " parts");
        }
        this.memory = memory;
        this.view = memory.nioBuffer(0, memory.capacity());
        this.slotCount = slotCount;
        this.dataOffset = dataOffsetFor(slotCount);
    }

    /** Slots that fit in {@code bytes}: the header, a table rounded up to whole pages, and the data. */
    static int slotsFor(long bytes) {
        long slots = Math.max(0, (bytes - HEADER_BYTES) / (PAGE + ENTRY_BYTES));
        while (slots > 0 && dataOffsetFor(slots) + slots * PAGE > bytes) {
            slots--;
        }
        return (int) Math.min(slots, Integer.MAX_VALUE);
    }

    private static int dataOffsetFor(long slots) {
        long table = (slots * ENTRY_BYTES + PAGE - 1) / PAGE * PAGE;
        return (int) (HEADER_BYTES + table);
    }

    /**
     * The layout of {@code memory}: formatted now if its magic is 0 (memory as the driver allocates it, or a
     * format a crash interrupted: nothing is acknowledged from a tier before its magic is written), else read
     * from its header.
     *
     * @throws IllegalStateException naming what was found when the memory holds something else, another layout
     *                               version, or a tier bigger than the memory
     */
    static TierLayout attach(ByteBuf memory) {
        long magic = memory.getLongLE(MAGIC_AT);
        if (magic == 0) {
            return format(memory);
        }
        if (magic != MAGIC) {
            throw new IllegalStateException(String.format("host tier memory (%d bytes) starts with 0x%016x, neither"
                    + " zero nor a host tier's magic: refusing to format it (it is not what this daemon wrote)",
                    memory.capacity(), magic));
        }
        int version = memory.getIntLE(VERSION_AT);
        if (version != LAYOUT_VERSION) {
            throw new IllegalStateException("host tier memory holds layout version " + version + "; this daemon"
                    + " reads version " + LAYOUT_VERSION + ". It may hold pages not yet on the donors: start the"
                    + " Valet version that wrote it to write them out, or destroy the device to discard them");
        }
        int slots = memory.getIntLE(SLOTS_AT);
        int pageSize = memory.getIntLE(PAGE_SIZE_AT);
        int entryBytes = memory.getIntLE(ENTRY_BYTES_AT);
        long table = memory.getLongLE(TABLE_AT);
        long data = memory.getLongLE(DATA_AT);
        if (pageSize != PAGE || entryBytes != ENTRY_BYTES || table != HEADER_BYTES || slots <= 0
                || data != dataOffsetFor(slots) || data + (long) slots * PAGE > memory.capacity()) {
            throw new IllegalStateException("host tier header does not fit its memory of " + memory.capacity()
                    + " bytes: " + slots + " slots of " + pageSize + " bytes, entries of " + entryBytes + " bytes"
                    + " from " + table + ", data from " + data);
        }
        return new TierLayout(memory, slots);
    }

    private static TierLayout format(ByteBuf memory) {
        int slots = slotsFor(memory.capacity());
        if (slots < 1) {
            throw new IllegalArgumentException("host tier memory of " + memory.capacity() + " bytes holds no page (at"
                    + " least " + (HEADER_BYTES + PAGE + PAGE) + " bytes)");
        }
        TierLayout layout = new TierLayout(memory, slots);
        memory.setZero(0, layout.dataOffset); // header and table: every slot FREE
        memory.setIntLE(VERSION_AT, LAYOUT_VERSION);
        memory.setIntLE(PAGE_SIZE_AT, PAGE);
        memory.setIntLE(SLOTS_AT, slots);
        memory.setIntLE(ENTRY_BYTES_AT, ENTRY_BYTES);
        memory.setLongLE(TABLE_AT, HEADER_BYTES);
        memory.setLongLE(DATA_AT, layout.dataOffset);
        VarHandle.releaseFence(); // the magic says "formatted": everything above is in place before it
        memory.setLongLE(MAGIC_AT, MAGIC);
        return layout;
    }

    int slotCount() {
        return slotCount;
    }

    /** Where slot {@code slot}'s page is in the memory. */
    int dataAt(int slot) {
        return dataOffset + slot * PAGE;
    }

    /** The memory itself, for backing reads and writes of a slot's page at {@link #dataAt}. */
    ByteBuf memory() {
        return memory;
    }

    /** Copies a page into the slot's data (a slot FREE in memory, which nothing else reads). */
    void copyIn(int slot, ByteBuf src, int srcIndex) {
        memory.setBytes(dataAt(slot), src, srcIndex, PAGE);
    }

    /** Copies the slot's page out to {@code dst}. */
    void copyOut(int slot, ByteBuf dst, int dstIndex) {
        dst.setBytes(dstIndex, memory, dataAt(slot), PAGE);
    }

    long page(int slot) {
        return memory.getLongLE(entryAt(slot) + ENTRY_PAGE);
    }

    long version(int slot) {
        return memory.getLongLE(entryAt(slot) + ENTRY_VERSION);
    }

    int storedCrc(int slot) {
        return memory.getIntLE(entryAt(slot) + ENTRY_CRC);
    }

    int state(int slot) {
        return memory.getIntLE(entryAt(slot) + ENTRY_STATE);
    }

    /** Describes the slot's data: plain stores, made visible in order by the next {@link #publish}. */
    void describe(int slot, long page, long version) {
        int at = entryAt(slot);
        memory.setLongLE(at + ENTRY_PAGE, page);
        memory.setLongLE(at + ENTRY_VERSION, version);
        memory.setIntLE(at + ENTRY_CRC, checksum(slot));
    }

    /**
     * Sets the slot's state after every store before it (its data, its entry, another slot's state): the release
     * fence keeps the compiler and the CPU from moving any of them after this one, so a crash at any instruction
     * leaves the states in the order the tier wrote them.
     */
    void publish(int slot, int state) {
        VarHandle.releaseFence();
        memory.setIntLE(entryAt(slot) + ENTRY_STATE, state);
    }

    /** Whether the slot's data still has the CRC its entry recorded. */
    boolean dataIntact(int slot) {
        return checksum(slot) == storedCrc(slot);
    }

    private int checksum(int slot) {
        int at = dataAt(slot);
        view.limit(at + PAGE).position(at);
        crc.reset();
        crc.update(view);
        return (int) crc.getValue();
    }

    private int entryAt(int slot) {
        return HEADER_BYTES + slot * ENTRY_BYTES;
    }
}
