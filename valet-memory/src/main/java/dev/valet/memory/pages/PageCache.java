package dev.valet.memory.pages;

import io.netty.buffer.ByteBuf;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The local cache of hot pages: the least recently used page goes first once {@code capacity} pages are held.
 * Written pages enter it too (write-through: the donors have every write before it is acknowledged, so the cache
 * never holds the only copy). An entry is the page as it was last read or written; the caller masks the granules no
 * region wrote ({@link GranuleMasks}). Capacity 0 turns it off.
 */
final class PageCache {
    private final int capacity;
    private final LinkedHashMap<Long, byte[]> pages = new LinkedHashMap<>(16, 0.75f, true);
    private long hits;
    private long misses;

    PageCache(long bytes) {
        this.capacity = (int) Math.min(Integer.MAX_VALUE, bytes / PageSpace.PAGE);
    }

    boolean enabled() {
        return capacity > 0;
    }

    /** Copies page {@code page} into {@code dst} at {@code index} if it is cached; whether it was. */
    boolean copyTo(long page, ByteBuf dst, int index) {
        if (capacity == 0) {
            return false;
        }
        synchronized (this) {
            byte[] data = pages.get(page);
            if (data == null) {
                misses++;
                return false;
            }
            hits++;
            dst.setBytes(index, data);
            return true;
        }
    }

    /** Page {@code page} now holds what {@code src} holds at {@code index}. */
    void put(long page, ByteBuf src, int index) {
        if (capacity == 0) {
            return;
        }
        synchronized (this) {
            byte[] data = pages.get(page);
            if (data == null) {
                if (pages.size() >= capacity) {
                    Iterator<Map.Entry<Long, byte[]>> eldest = pages.entrySet().iterator();
                    data = eldest.next().getValue();
                    eldest.remove();
                } else {
                    data = new byte[PageSpace.PAGE];
                }
                pages.put(page, data);
            }
            src.getBytes(index, data);
        }
    }

    void invalidate(long page) {
        if (capacity == 0) {
            return;
        }
        synchronized (this) {
            pages.remove(page);
        }
    }

    synchronized long hits() {
        return hits;
    }

    synchronized long misses() {
        return misses;
    }

    synchronized long bytes() {
        return (long) pages.size() * PageSpace.PAGE;
    }
}
