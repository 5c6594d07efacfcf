package dev.valet.memory.alloc;

import java.util.Comparator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The free runs of pages of a page space: best fit (the shortest run that holds a request, the lowest of equals), and
 * a freed run merged with its free neighbours, so a space that is freed entirely is one run again. Not thread-safe:
 * {@link Allocator} guards it.
 */
final class PageExtents {
    private record Extent(long start, long length) {
    }

    private final NavigableMap<Long, Long> byStart = new TreeMap<>();
    private final NavigableSet<Extent> bySize = new TreeSet<>(
            Comparator.comparingLong(Extent::length).thenComparingLong(Extent::start));
    private final long pageCount;
    private long freePages;

    PageExtents(long pageCount) {
        this.pageCount = pageCount;
        if (pageCount > 0) {
            add(0, pageCount);
        }
    }

    /** The first page of {@code n} free pages now taken, or -1 if no free run is that long. */
    long take(long n) {
        if (n < 1) {
            throw new IllegalArgumentException("pages " + n);
        }
        Extent fit = bySize.ceiling(new Extent(Long.MIN_VALUE, n));
        if (fit == null) {
            return -1;
        }
        remove(fit);
        if (fit.length() > n) {
            add(fit.start() + n, fit.length() - n);
        }
        return fit.start();
    }

    /**
     * Pages {@code start .. start + n} are free again.
     *
     * @throws IllegalStateException if any of them is free already (freed twice: the allocator's books are wrong)
     */
    void give(long start, long n) {
        if (n < 1 || start < 0 || start + n > pageCount) {
            throw new IllegalArgumentException("pages " + start + "+" + n + " outside 0.." + pageCount);
        }
        long from = start;
        long length = n;
        Map.Entry<Long, Long> before = byStart.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() > start) {
            throw new IllegalStateException("pages " + start + "+" + n + " overlap free run " + before);
        }
        Map.Entry<Long, Long> after = byStart.ceilingEntry(start);
        if (after != null && after.getKey() < start + n) {
            throw new IllegalStateException("pages " + start + "+" + n + " overlap free run " + after);
        }
        if (before != null && before.getKey() + before.getValue() == start) {
            remove(new Extent(before.getKey(), before.getValue()));
            from = before.getKey();
            length += before.getValue();
        }
        if (after != null && after.getKey() == start + n) {
            remove(new Extent(after.getKey(), after.getValue()));
            length += after.getValue();
        }
        add(from, length);
    }

    long freePages() {
        return freePages;
    }

    /** The longest free run, in pages (0 when none is free). */
    long longestRun() {
        return bySize.isEmpty() ? 0 : bySize.last().length();
    }

    private void add(long start, long length) {
        byStart.put(start, length);
        bySize.add(new Extent(start, length));
        freePages += length;
    }

    private void remove(Extent e) {
        byStart.remove(e.start());
        bySize.remove(e);
        freePages -= e.length();
    }
}
