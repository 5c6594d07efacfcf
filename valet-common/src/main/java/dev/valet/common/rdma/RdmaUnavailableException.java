package dev.valet.common.rdma;

/** RDMA cannot be used here: the libraries, the shim, its layout, or a device is missing; the message says which. */
public final class RdmaUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RdmaUnavailableException(String message) {
        super(message);
    }

    public RdmaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
