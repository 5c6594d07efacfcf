package dev.valet.memory;

/**
 * No room for a region: the page space ({@code swapSpace} in valet.yaml) has too few free pages, or no free run long
 * enough. Nothing was allocated. (Donors short of memory show differently: writes wait for room, up to
 * {@code device.holdTimeout}, then fail with a {@link RegionIoException}.)
 */
public final class OutOfRemoteMemoryException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public OutOfRemoteMemoryException(String message) {
        super(message);
    }
}
