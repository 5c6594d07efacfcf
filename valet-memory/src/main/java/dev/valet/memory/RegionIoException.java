package dev.valet.memory;

/**
 * A read or write of a region could not be completed correctly: no copy on the donors held the last written data
 * (and no backup disk did), or no copy stored the write, or donors stayed away longer than {@code device.holdTimeout}.
 * A read that fails never returned wrong data: the buffer's bytes are unspecified and its position did not move. A
 * write that fails may have reached some copies: read the bytes again (or write them again) before trusting them.
 */
public final class RegionIoException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public RegionIoException(String message, Throwable cause) {
        super(message, cause);
    }
}
