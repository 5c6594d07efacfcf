package dev.valet.memory;

import dev.valet.memory.alloc.Placement;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A block of remote memory from {@link RemoteMemory#allocate(long)}: {@link #size()} bytes, zeros until written,
 * stored (replicated) on the donors. Reads and writes take a {@link ByteBuffer}, heap or direct, and move its
 * position past the bytes transferred, as a {@code FileChannel} does; each is atomic per 4 KiB page against other
 * reads and writes of this memory. Thread-safe: threads may read and write one region (or many) at once. After
 * {@link #free()} every use throws {@link RegionFreedException}.
 */
public final class Region {
    private final RemoteMemory memory;
    private final long id;
    private final Placement placement;
    private volatile boolean freed;

    Region(RemoteMemory memory, long id, Placement placement) {
        this.memory = memory;
        this.id = id;
        this.placement = placement;
    }

    /** Its number in its memory, counting from 1 in order of allocation (for logs and errors). */
    public long id() {
        return id;
    }

    /** Bytes it holds: what {@link RemoteMemory#allocate(long)} was asked for. */
    public long size() {
        return placement.length();
    }

    /**
     * Reads {@code dst.remaining()} bytes from byte {@code offset} of this region into {@code dst}; its position moves
     * to its limit.
     *
     * @throws IndexOutOfBoundsException if the bytes are not all inside the region (nothing is read)
     * @throws java.nio.ReadOnlyBufferException if {@code dst} is read-only
     * @throws RegionIoException if no copy on the donors could return the data; {@code dst}'s position is unchanged
     * @throws RegionFreedException if the region was freed (or its memory closed)
     */
    public void read(long offset, ByteBuffer dst) throws MemoryException {
        memory.read(List.of(new Transfer(this, offset, dst)));
    }

    /**
     * Writes {@code src.remaining()} bytes from {@code src} to this region from byte {@code offset}; its position
     * moves to its limit. Returns once every copy the engine keeps has stored them.
     *
     * @throws IndexOutOfBoundsException if the bytes are not all inside the region (nothing is written)
     * @throws RegionIoException if the donors did not store them; {@code src}'s position is unchanged
     * @throws RegionFreedException if the region was freed (or its memory closed)
     */
    public void write(long offset, ByteBuffer src) throws MemoryException {
        memory.write(List.of(new Transfer(this, offset, src)));
    }

    /**
     * {@link #read(long, ByteBuffer)} on one of the memory's async threads; the future completes exceptionally with
     * the {@link MemoryException}. {@code dst} is the read's until then.
     *
     * @throws IndexOutOfBoundsException at once, if the bytes are not all inside the region
     */
    public CompletableFuture<Void> readAsync(long offset, ByteBuffer dst) {
        return memory.readAsync(List.of(new Transfer(this, offset, dst)));
    }

    /** {@link #write(long, ByteBuffer)} as {@link #readAsync(long, ByteBuffer)} is {@link #read(long, ByteBuffer)}. */
    public CompletableFuture<Void> writeAsync(long offset, ByteBuffer src) {
        return memory.writeAsync(List.of(new Transfer(this, offset, src)));
    }

    /**
     * Gives its space back: a region allocated later may take it (and reads as zeros). Waits for reads and writes of
     * its pages that are running.
     *
     * @throws RegionFreedException if it was freed already
     */
    public void free() throws MemoryException {
        memory.free(this);
    }

    public boolean isFreed() {
        return freed;
    }

    RemoteMemory memory() {
        return memory;
    }

    Placement placement() {
        return placement;
    }

    /** Marks it freed; false if it was already. Called under its pages' exclusive locks. */
    boolean markFreed() {
        if (freed) {
            return false;
        }
        freed = true;
        return true;
    }

    @Override
    public String toString() {
        return "region #" + id + " (" + size() + " bytes)";
    }
}
