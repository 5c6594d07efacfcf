package dev.valet.tools.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark's page check: a page from elsewhere, an older write, torn data are all caught. */
class PageContentsTest {
    @Test
    void pageCheckCatchesAnotherPageAnOlderWriteAndTornData() {
        PageContents contents = new PageContents(16, 7);
        ByteBuf buf = Unpooled.directBuffer(2 * 4096);
        try {
            int first = contents.nextGeneration();
            contents.fill(3, buf, 4096, first);
            assertThat(contents.check(3, buf, 4096)).isTrue();
            assertThat(contents.check(4, buf, 4096)).as("another page").isFalse();

            ByteBuf old = Unpooled.directBuffer(4096);
            try {
                old.setBytes(0, buf, 4096, 4096);
                contents.fill(3, buf, 4096, contents.nextGeneration());
                assertThat(contents.check(3, old, 0)).as("the older write").isFalse();
            } finally {
                old.release();
            }

            buf.setByte(4096 + 2000, buf.getByte(4096 + 2000) ^ 1);
            assertThat(contents.check(3, buf, 4096)).as("a flipped bit in the body").isFalse();
        } finally {
            buf.release();
        }
    }
}
