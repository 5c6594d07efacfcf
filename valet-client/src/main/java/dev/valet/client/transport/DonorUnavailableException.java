package dev.valet.client.transport;

/** A donor could not be reached, dropped the connection, or did not answer in time. */
public final class DonorUnavailableException extends RuntimeException {
    public DonorUnavailableException(String message) {
        super(message);
    }

    public DonorUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
