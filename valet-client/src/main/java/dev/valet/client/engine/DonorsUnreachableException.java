package dev.valet.client.engine;

/**
 * A request could not be served now because the donors it needs are not reachable (suspected, disconnected, too
 * few live, or late to answer), not because anything is wrong with the data. {@link RequestHold} retries such a
 * request until {@code device.holdTimeout}; it never reaches the engine's callers.
 */
final class DonorsUnreachableException extends RuntimeException {
    DonorsUnreachableException(String message) {
        super(message, null, false, false);
    }
}
