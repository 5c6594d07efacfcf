package dev.valet.common.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Polls a condition until it holds or a deadline passes: the tests' one way to wait for something that happens on
 * another thread or in another process (a donor declared dead, a copy restored, a log line written).
 *
 * <p>The condition is checked at once, then after pauses that grow from 1 ms to {@value #MAX_PAUSE_MS} ms (fast when
 * it holds quickly, cheap when it takes seconds), and once more at the deadline. A timeout fails with an
 * {@link AssertionError} that names what was awaited and for how long.
 */
public final class Await {
    private static final long MAX_PAUSE_MS = 50;

    private Await() {
    }

    /** Waits until {@code condition} holds; fails after {@code timeout} with "{@code what}" in the message. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        until(() -> what, timeout, condition);
    }

    /**
     * As {@link #until(String, Duration, BooleanSupplier)}, with a description made only on a timeout, so that it
     * can tell the state things were left in (a donor's state, a log's contents).
     */
    public static void until(Supplier<String> what, Duration timeout, BooleanSupplier condition)
            throws InterruptedException {
        if (!holdsWithin(timeout, condition)) {
            throw timedOut(what.get(), timeout);
        }
    }

    /**
     * The first non-null value of {@code probe}, waiting up to {@code timeout} for one; fails with "{@code what}" in
     * the message after that. An exception from the probe ends the wait and is thrown as it is.
     */
    public static <T> T value(Supplier<String> what, Duration timeout, Callable<T> probe) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMs = 1;
        while (true) {
            T value = probe.call();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw timedOut(what.get(), timeout);
            }
            pauseMs = pause(pauseMs, deadline);
        }
    }

    /**
     * Whether {@code condition} holds within {@code timeout}, without failing: for a test that must do something
     * else (stop a workload) before it asserts.
     */
    public static boolean holdsWithin(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMs = 1;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            pauseMs = pause(pauseMs, deadline);
        }
        return true;
    }

    /** Sleeps {@code pauseMs}, or until the deadline if sooner; returns the next pause. */
    private static long pause(long pauseMs, long deadline) throws InterruptedException {
        long leftMs = Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
        Thread.sleep(Math.min(pauseMs, leftMs));
        return Math.min(pauseMs * 2, MAX_PAUSE_MS);
    }

    private static AssertionError timedOut(String what, Duration timeout) {
        return new AssertionError("timed out after " + describe(timeout) + " waiting for: " + what);
    }

    /** "10 s", "250 ms": shorter than Duration's PT10S. */
    private static String describe(Duration timeout) {
        long ms = timeout.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }
}
