package dev.valet.client.engine;

import java.util.concurrent.CompletableFuture;

/** A {@link PageIoDone} as a future, for callers off the I/O path (tests, tools, the hold's retries). */
final class PageIoFuture extends CompletableFuture<Void> implements PageIoDone {
    @Override
    public void pageIoDone(Throwable error) {
        if (error == null) {
            complete(null);
        } else {
            completeExceptionally(error);
        }
    }
}
