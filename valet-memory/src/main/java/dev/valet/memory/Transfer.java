package dev.valet.memory;

import java.nio.ByteBuffer;

/**
 * One part of a bulk read or write ({@link RemoteMemory#read(java.util.List)}): {@code buffer.remaining()} bytes of
 * {@code region} from byte {@code offset}, into or out of {@code buffer} from its position.
 */
public record Transfer(Region region, long offset, ByteBuffer buffer) {
}
