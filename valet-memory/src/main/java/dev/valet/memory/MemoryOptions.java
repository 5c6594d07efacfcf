package dev.valet.memory;

/**
 * What a {@link RemoteMemory} adds to the engine's valet.yaml: the local cache and the threads of the async forms.
 * {@code MemoryOptions.DEFAULTS.withCacheBytes(64L << 20)}.
 *
 * @param cacheBytes   bytes of local memory (Java heap) that keep recently used pages, least recently used first
 *                     out; 0 (the default) turns the cache off. Reads of cached pages ask no donor; writes go to the
 *                     donors always (write-through) and enter the cache
 * @param asyncThreads threads that run the {@code ...Async} calls, each one call at a time: at most this many run at
 *                     once, the others queue; default 8, 1 to 1024
 */
public record MemoryOptions(long cacheBytes, int asyncThreads) {
    /** No cache, 8 async threads. */
    public static final MemoryOptions DEFAULTS = new MemoryOptions(0, 8);

    public static final int MAX_ASYNC_THREADS = 1024;

    /** @throws IllegalArgumentException naming the option that is out of range */
    public MemoryOptions {
        if (cacheBytes < 0) {
            throw new IllegalArgumentException("cacheBytes must not be negative, got " + cacheBytes);
        }
        if (asyncThreads < 1 || asyncThreads > MAX_ASYNC_THREADS) {
            throw new IllegalArgumentException("asyncThreads must be 1 to " + MAX_ASYNC_THREADS + ", got "
                    + asyncThreads);
        }
    }

    public MemoryOptions withCacheBytes(long bytes) {
        return new MemoryOptions(bytes, asyncThreads);
    }

    public MemoryOptions withAsyncThreads(int threads) {
        return new MemoryOptions(cacheBytes, threads);
    }
}
