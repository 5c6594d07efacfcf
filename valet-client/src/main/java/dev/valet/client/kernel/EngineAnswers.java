package dev.valet.client.kernel;

import dev.valet.client.engine.PageIoDone;
import dev.valet.client.netlink.Netlink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where the engine answers the reads and writes the receiver hands it: one preallocated {@link PageIoDone} per
 * slot (so a request allocates nothing), which counts the request's time in the engine and its failure, and passes
 * the status to the {@link CompletionSender}. The engine's threads call it; a storage failure completes with -EIO.
 */
final class EngineAnswers {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    private final SlotPool pool;
    private final CompletionSender sender;
    private final Answer[] answers;
    private final AtomicInteger inEngine = new AtomicInteger();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong engineNanos = new AtomicLong();

    EngineAnswers(SlotPool pool, CompletionSender sender) {
        this.pool = pool;
        this.sender = sender;
        this.answers = new Answer[pool.slots()];
        for (int s = 0; s < answers.length; s++) {
            answers[s] = new Answer(s);
        }
    }

    /** Receiver: {@code slot}'s request goes to the engine now; returns what the engine must tell when it ends. */
    PageIoDone begin(int slot) {
        inEngine.incrementAndGet();
        pool.engineStart[slot] = System.nanoTime();
        return answers[slot];
    }

    /** Requests the engine has not answered yet. */
    int inEngine() {
        return inEngine.get();
    }

    long failed() {
        return failed.get();
    }

    long answered() {
        return answered.get();
    }

    /** Sum over answered requests of the time from the engine call to its answer. */
    long engineNanos() {
        return engineNanos.get();
    }

    /** The engine's answer for one slot (one preallocated instance per slot). */
    private final class Answer implements PageIoDone {
        private final int slot;

        Answer(int slot) {
            this.slot = slot;
        }

        @Override
        public void pageIoDone(Throwable error) {
            engineNanos.addAndGet(System.nanoTime() - pool.engineStart[slot]);
            answered.incrementAndGet();
            inEngine.decrementAndGet();
            if (error != null) {
                long n = failed.incrementAndGet();
                if (n <= 10 || n % 1000 == 0) {
                    LOG.warn("request {} failed with EIO ({} so far): {}", Long.toUnsignedString(pool.cookie[slot]),
                            n, error.toString());
                }
                sender.complete(slot, -Netlink.EIO);
            } else {
                sender.complete(slot, 0);
            }
        }
    }
}
