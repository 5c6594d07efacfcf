package dev.valet.client.kernel;

import dev.valet.client.engine.Engine;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * Where the kernel channel keeps pages: the client {@link Engine} in the daemon, a map in tests. Pages are 4096
 * bytes; the buffers are the channel's preallocated request slots and stay untouched until the future completes.
 */
public interface PageStore {
    /** Stores pages {@code firstPage .. firstPage + count} from {@code src} at {@code srcIndex}. */
    CompletableFuture<Void> write(long firstPage, int count, ByteBuf src, int srcIndex);

    /** Reads pages {@code firstPage .. firstPage + count} into {@code dst} at {@code dstIndex}. */
    CompletableFuture<Void> read(long firstPage, int count, ByteBuf dst, int dstIndex);

    /** The engine as a page store. */
    static PageStore of(Engine engine) {
        return new PageStore() {
            @Override
            public CompletableFuture<Void> write(long firstPage, int count, ByteBuf src, int srcIndex) {
                return engine.write(firstPage, count, src, srcIndex);
            }

            @Override
            public CompletableFuture<Void> read(long firstPage, int count, ByteBuf dst, int dstIndex) {
                return engine.read(firstPage, count, dst, dstIndex);
            }
        };
    }
}
