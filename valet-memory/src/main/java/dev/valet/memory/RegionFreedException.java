package dev.valet.memory;

/** A region was used (read, written, freed) after it was freed, or after its memory was closed. Nothing was done. */
public final class RegionFreedException extends MemoryException {
    private static final long serialVersionUID = 1L;

    public RegionFreedException(String message) {
        super(message);
    }
}
