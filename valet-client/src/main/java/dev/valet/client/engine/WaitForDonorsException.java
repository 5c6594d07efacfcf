package dev.valet.client.engine;

/**
 * A request could not be served now because of the donors, not because anything is wrong with the data: the ones it
 * needs do not answer (suspected, disconnected, late), fewer are live than copies to place, or none has room for a
 * new slab yet. {@link RequestHold} retries such a request until {@code device.holdTimeout}; it never reaches the
 * engine's callers.
 */
final class WaitForDonorsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WaitForDonorsException(String message) {
        super(message, null, false, false);
    }
}
