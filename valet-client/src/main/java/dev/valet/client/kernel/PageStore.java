package dev.valet.client.kernel;

import dev.valet.client.engine.Engine;
import dev.valet.client.engine.PageIoDone;
import io.netty.buffer.ByteBuf;

/**
 * Where the kernel channel keeps pages: the client {@link Engine} in the daemon, a map in tests. Pages are 4096
 * bytes; the buffers are the channel's preallocated request slots and stay untouched until {@code done} is told.
 * Each call tells {@code done} exactly once (it may also throw at once, which the channel treats as a failure).
 */
public interface PageStore {
    /** Stores pages {@code firstPage .. firstPage + count} from {@code src} at {@code srcIndex}. */
    void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done);

    /** Reads pages {@code firstPage .. firstPage + count} into {@code dst} at {@code dstIndex}. */
    void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done);

    /** The engine as a page store. */
    static PageStore of(Engine engine) {
        return new PageStore() {
            @Override
            public void write(long firstPage, int count, ByteBuf src, int srcIndex, PageIoDone done) {
                engine.write(firstPage, count, src, srcIndex, done);
            }

            @Override
            public void read(long firstPage, int count, ByteBuf dst, int dstIndex, PageIoDone done) {
                engine.read(firstPage, count, dst, dstIndex, done);
            }
        };
    }
}
