package dev.valet.memory;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

/** What a region should hold: the tests' in-memory model, a byte array per region, zeros when new. */
final class MemoryModel {
    final Region region;
    final byte[] bytes;

    MemoryModel(Region region) {
        this.region = region;
        this.bytes = new byte[Math.toIntExact(region.size())];
    }

    /** Random bytes for {@code n} bytes at {@code offset}, recorded in the model; the buffer to write them from. */
    ByteBuffer change(int offset, int n, Random random, boolean direct) {
        byte[] data = new byte[n];
        random.nextBytes(data);
        System.arraycopy(data, 0, bytes, offset, n);
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
        b.put(data).flip();
        return b;
    }

    /** Bytes of {@code read} (flipped) that differ from the model's {@code offset ..}. */
    long wrongBytes(int offset, ByteBuffer read) {
        long wrong = 0;
        for (int i = 0; i < read.remaining(); i++) {
            if (read.get(read.position() + i) != bytes[offset + i]) {
                wrong++;
            }
        }
        return wrong;
    }

    byte[] copy(int offset, int n) {
        return Arrays.copyOfRange(bytes, offset, offset + n);
    }
}
