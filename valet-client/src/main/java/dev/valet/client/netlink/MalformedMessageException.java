package dev.valet.client.netlink;

import java.io.IOException;

/**
 * A netlink message that does not parse: a length that runs past its container, an attribute too short for its
 * type, a nested attribute whose payload is not attributes. Readers throw it instead of ever reading outside the
 * message; the receive loop drops the message and counts it.
 */
public final class MalformedMessageException extends IOException {
    private static final long serialVersionUID = 1L;

    public MalformedMessageException(String message) {
        super(message);
    }
}
