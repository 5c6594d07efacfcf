package dev.valet.client.tier;

/**
 * Predicts the next swap-ins from the last ones, after Leap's prefetcher (Al Maruf and Chowdhury, ATC'20): the
 * differences between the page numbers of recent swap-ins are put to a majority vote (Boyer-Moore), over the most
 * recent half of the window first and then the whole window; a difference held by more than half of them is the
 * trend, and the next pages along it are worth reading ahead. How many (the read-ahead window) adapts as Leap's
 * does: it doubles while read-ahead pages are asked for, and halves after a swap-in the trend did not foresee.
 *
 * <p>Beyond Leap: when the differences between consecutive swap-ins have no majority, the differences between a
 * swap-in and the one {@code lag} before it (up to {@code maxLag}) are voted on too. Two or three sequential
 * streams interleaved (two processes swapping in at once) have no trend at lag 1 and a clear one at their own
 * count; each stream is then read ahead. With {@code maxLag} 1 this is Leap's detector; TrendDetectorTest prints
 * both. Allocation free; not thread safe (the tier calls it under its lock).
 */
final class TrendDetector {
    private final int window;
    private final int maxPages;
    private final int maxLag;
    /** The last {@code window + maxLag} swap-ins' first pages, a ring; {@code recorded} of them are real. */
    private final long[] pages;
    private int newest = -1;
    private long recorded;
    private int size;
    private long stride;
    private int lag;
    private int count = 1;
    private int held;

    /**
     * @param window   differences voted over (Leap's history, 8)
     * @param maxPages largest read-ahead window
     * @param maxLag   most interleaved streams looked for (1: Leap's detector)
     */
    TrendDetector(int window, int maxPages, int maxLag) {
        if (window < 2 || maxPages < 1 || maxLag < 1) {
            throw new IllegalArgumentException("window " + window + ", maxPages " + maxPages + ", maxLag " + maxLag);
        }
        this.window = window;
        this.maxPages = maxPages;
        this.maxLag = maxLag;
        this.pages = new long[window + maxLag];
        this.size = Math.min(2, maxPages);
    }

    /**
     * Records a swap-in of pages {@code page .. page + count - 1}.
     *
     * @param foreseen some of its pages were read ahead (in the tier, or on the way)
     * @param missed   some of its pages were neither in the tier nor on the way
     * @return how many of the {@link #predicted} pages to have in the tier now; 0 when there is no trend
     */
    int record(long page, int count, boolean foreseen, boolean missed) {
        newest = (newest + 1) % pages.length;
        pages[newest] = page;
        recorded++;
        this.count = Math.max(1, count);
        findTrend();
        if (foreseen) {
            size = Math.min(maxPages, 2 * size);
        } else if (missed) {
            size = Math.max(1, size / 2);
        }
        return stride == 0 ? 0 : size;
    }

    /** The trend's difference from the last {@link #record}, 0 if none. */
    long stride() {
        return stride;
    }

    /** The interleaved streams of the trend (1: a single stream). */
    int lag() {
        return lag;
    }

    /**
     * The {@code i}-th page the trend predicts: for each stream (the last {@code lag} swap-ins), runs of the last
     * swap-in's length, one stride further each time; the nearest first.
     */
    long predicted(int i) {
        int run = lag * count;
        int step = i / run + 1;
        int stream = i % run / count;
        int offset = i % count;
        return at(stream) + step * stride + offset;
    }

    /**
     * Votes at each lag, the recent half of the window first as Leap does; of the lags with a majority, the one
     * held by the largest share wins (the smallest on a tie), so that three interleaved streams are not mistaken
     * for one whose every third step is a jump.
     */
    private void findTrend() {
        stride = 0;
        lag = 0;
        double best = 0;
        for (int l = 1; l <= maxLag; l++) {
            for (int pass = 0; pass < 2; pass++) {
                int span = pass == 0 ? Math.max(2, window / 2) : window;
                long d = majority(l, span);
                if (d != 0) {
                    double share = (double) held / span;
                    if (share > best) {
                        best = share;
                        stride = d;
                        lag = l;
                    }
                    break;
                }
            }
        }
    }

    /**
     * The difference at {@code lag} held by more than half of the last {@code span}, or 0 (0 is no trend); how many
     * hold it is left in {@link #held}.
     */
    private long majority(int lag, int span) {
        held = 0;
        if (recorded < span + lag) {
            return 0;
        }
        long candidate = 0;
        int votes = 0;
        for (int j = 0; j < span; j++) {
            long d = at(j) - at(j + lag);
            if (votes == 0) {
                candidate = d;
                votes = 1;
            } else if (d == candidate) {
                votes++;
            } else {
                votes--;
            }
        }
        for (int j = 0; j < span; j++) {
            if (at(j) - at(j + lag) == candidate) {
                held++;
            }
        }
        return held * 2 > span ? candidate : 0;
    }

    /** The first page of the swap-in {@code back} before the last one. */
    private long at(int back) {
        return pages[Math.floorMod(newest - back, pages.length)];
    }
}
