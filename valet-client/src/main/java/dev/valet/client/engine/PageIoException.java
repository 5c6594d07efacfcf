package dev.valet.client.engine;

/**
 * A page read or write the engine could not complete correctly: no copy returned the last written version with its
 * checksum (and no backup disk did), or no copy stored a write. The kernel sees it as an I/O error: never zeros,
 * never stale data.
 */
public final class PageIoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PageIoException(String message) {
        super(message, null, false, false);
    }
}
