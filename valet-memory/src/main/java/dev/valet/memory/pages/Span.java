package dev.valet.memory.pages;

import java.nio.ByteBuffer;

/**
 * One transfer's bytes in the page space: {@code length} bytes from byte {@code address}, to or from {@code buffer}
 * at its absolute index {@code bufferIndex}; {@code owner} (a region) and {@code ownerOffset} name them in errors.
 */
public record Span(long address, int length, ByteBuffer buffer, int bufferIndex, Object owner, long ownerOffset) {
    long firstPage() {
        return address / PageSpace.PAGE;
    }

    long lastPage() {
        return (address + length - 1) / PageSpace.PAGE;
    }

    /** The part of it from {@code skip} bytes in, {@code n} bytes long. */
    Span part(int skip, int n) {
        return new Span(address + skip, n, buffer, bufferIndex + skip, owner, ownerOffset + skip);
    }

    @Override
    public String toString() {
        return owner + " bytes " + ownerOffset + ".." + (ownerOffset + length - 1);
    }
}
