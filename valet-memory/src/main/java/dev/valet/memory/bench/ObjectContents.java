package dev.valet.memory.bench;

import java.nio.ByteBuffer;

/**
 * What the benchmark writes to object {@code o} in its version {@code v}: every 8 bytes a mix of seed, object,
 * version and position, so a byte from another object, another version or another place is told apart. Cheap
 * enough to make and check 512 KiB per operation.
 */
final class ObjectContents {
    private ObjectContents() {
    }

    private static long word(long seed, long object, long version, long index) {
        long z = seed ^ object * 0x9E3779B97F4A7C15L ^ version * 0xC2B2AE3D27D4EB4FL ^ index * 0x165667B19E3779F9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code buf} from 0 to {@code size} (its limit then) with the object's contents. */
    static void fill(ByteBuffer buf, int size, long seed, long object, long version) {
        buf.clear();
        int words = size / Long.BYTES;
        for (int i = 0; i < words; i++) {
            buf.putLong(i * Long.BYTES, word(seed, object, version, i));
        }
        long last = word(seed, object, version, words);
        for (int b = words * Long.BYTES; b < size; b++) {
            buf.put(b, (byte) (last >>> (8 * (b % Long.BYTES))));
        }
        buf.limit(size);
    }

    /** Whether {@code buf}'s bytes 0 .. {@code size} are exactly the object's contents. */
    static boolean matches(ByteBuffer buf, int size, long seed, long object, long version) {
        int words = size / Long.BYTES;
        for (int i = 0; i < words; i++) {
            if (buf.getLong(i * Long.BYTES) != word(seed, object, version, i)) {
                return false;
            }
        }
        long last = word(seed, object, version, words);
        for (int b = words * Long.BYTES; b < size; b++) {
            if (buf.get(b) != (byte) (last >>> (8 * (b % Long.BYTES)))) {
                return false;
            }
        }
        return true;
    }
}
