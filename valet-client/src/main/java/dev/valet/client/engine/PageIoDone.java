package dev.valet.client.engine;

/**
 * The end of a page read or write: told exactly once, on whichever thread ended it (a transport's event loop, the
 * hold's timer, the caller's own thread when it failed at once). {@code error} is null when it succeeded, else a
 * {@link PageIoException} or what else stopped it. An implementation on the I/O path is preallocated and reused
 * (one per kernel request slot): the engine allocates nothing per request to tell it.
 */
@FunctionalInterface
public interface PageIoDone {
    void pageIoDone(Throwable error);
}
