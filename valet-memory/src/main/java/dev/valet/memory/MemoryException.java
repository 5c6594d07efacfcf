package dev.valet.memory;

import java.io.IOException;

/**
 * Remote memory could not do what was asked; the message says what failed and why. Subclasses say which kind:
 * {@link OutOfRemoteMemoryException} (no room for a region), {@link RegionIoException} (a read or write of the
 * donors failed), {@link RegionFreedException} (the region is gone). A plain one: connecting failed (a bad
 * valet.yaml or portal.list, too few donors), or the memory is closed.
 */
public class MemoryException extends IOException {
    private static final long serialVersionUID = 1L;

    public MemoryException(String message) {
        super(message);
    }

    public MemoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
