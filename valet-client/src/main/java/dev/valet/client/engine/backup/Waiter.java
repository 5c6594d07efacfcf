package dev.valet.client.engine.backup;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A caller of {@link BackupDisk#whenWritten} waiting for write {@code sequence} to land. */
record Waiter(long sequence, CompletableFuture<Void> future) {

    /** Completes {@code ready} (outside the disk's lock, since dependent actions run inline) and clears it. */
    static void completeAll(List<Waiter> ready, IOException failure) {
        for (int i = 0; i < ready.size(); i++) {
            CompletableFuture<Void> future = ready.get(i).future();
            if (failure == null) {
                future.complete(null);
            } else {
                future.completeExceptionally(failure);
            }
        }
        ready.clear();
    }
}
