package dev.valet.cli;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.ByteSize;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.portal.DonorAddress;
import dev.valet.donor.DonorProcess;
import dev.valet.donor.memory.MemInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Donor processes a command starts on this machine for itself (check, demo, bench), with their logs in a scratch
 * folder that is deleted when the command succeeds and kept, and named, when it does not. They share a fresh
 * random cluster secret (a 0600 file in that folder), so the command's own connections run the authentication
 * handshake like any real cluster's: {@link #secret} is the client key that proves it.
 *
 * <p>A command stopped by SIGTERM or Ctrl-C never reaches its {@code close()}: a shutdown hook stops the donors
 * (also one still starting) and deletes the folder then, secret and all, so no donor outlives the command and no
 * secret is left behind. A failed command keeps the logs but not the secret.
 */
final class LoopbackDonors implements AutoCloseable {
    static final String EVICT_BELOW = "512M";
    static final String SAMPLE_INTERVAL = "100ms";
    private static final long PLENTY = ByteSize.ofGibibytes(8).bytes();
    private static final long SHORT = ByteSize.ofMebibytes(100).bytes();
    /** How long stopping waits for a SIGKILLed donor process to be gone. */
    private static final long STARTING_EXIT_TIMEOUT_S = 10;

    private final Path dir;
    private final Path secretFile;
    /** Written by the command's thread, read by the shutdown hook's. */
    private final List<DonorProcess> processes = new CopyOnWriteArrayList<>();
    /** Every donor process forked, listening or still starting: what stopping makes sure is gone. Guarded by this. */
    private final List<ProcessHandle> forked = new ArrayList<>();
    private final Thread onSignal = new Thread(this::stopOnSignal, "valet-donors-stop");
    /** Set by close or the shutdown hook, whichever comes first; both hold the lock while they stop the donors. */
    private boolean closed;
    private boolean succeeded;

    private LoopbackDonors(Path dir) {
        this.dir = dir;
        this.secretFile = dir.resolve("cluster.secret");
    }

    /**
     * Starts {@code count} donors lending {@code memory} each, listening on {@code host} (an address of this machine);
     * {@code lockMemory} false is the usual choice here: donors on the client's own machine would only pin the same
     * memory twice. With {@code memoryHook}, each donor learns its host's free memory from a file in the scratch
     * folder instead of /proc/meminfo (the donor's test hook, docs/operations.md): plenty, until
     * {@link #runShortOfMemory} says otherwise. Such donors keep {@value #EVICT_BELOW} free and sample every
     * {@value #SAMPLE_INTERVAL}.
     */
    static LoopbackDonors start(String purpose, int count, ByteSize memory, boolean lockMemory, String host,
                                boolean memoryHook) throws IOException {
        LoopbackDonors donors = new LoopbackDonors(Files.createTempDirectory("valet-" + purpose + "-"));
        Runtime.getRuntime().addShutdownHook(donors.onSignal);
        System.err.printf("starting %d donors on %s (logs in %s)%n", count, host, donors.dir);
        try {
            ClusterSecret.generate(donors.secretFile);
            String yaml = """
                    memory: %s
                    lockMemory: %s
                    auth:
                      secretFile: %s
                    """.formatted(memory, lockMemory, donors.secretFile.getFileName());
            if (memoryHook) {
                yaml += """
                        memorySampleInterval: %s
                        headroom:
                          evictBelow: %s
                          expandAbove: 1G
                          evictTimeout: 60s
                        """.formatted(SAMPLE_INTERVAL, EVICT_BELOW);
            }
            for (int i = 0; i < count; i++) {
                donors.processes.add(donors.launch(i, host, yaml, memoryHook).awaitReady());
            }
        } catch (IOException | RuntimeException e) {
            donors.close();
            throw e;
        }
        return donors;
    }

    /**
     * Writes donor {@code i}'s files and forks its process under the lock, so that a stop knows of it and nothing
     * is written into the folder once a stop has begun (the command's thread runs on while the shutdown hook does).
     */
    private synchronized DonorProcess.Starting launch(int i, String host, String yaml, boolean memoryHook)
            throws IOException {
        if (closed) {
            throw new IOException("not starting donor " + i + ": the donors in " + dir + " are being stopped");
        }
        Path meminfo = null;
        if (memoryHook) {
            meminfo = meminfo(i);
            MemInfo.write(meminfo, PLENTY);
        }
        DonorProcess.Starting donor = DonorProcess.launch(dir, String.valueOf(i), host, 0, yaml, meminfo);
        forked.add(donor.handle());
        return donor;
    }

    private Path meminfo(int donor) {
        return dir.resolve("donor-" + donor + ".meminfo");
    }

    /**
     * Donor {@code donor}'s host (started with the memory hook) has 100 MiB free from now on, far below
     * {@value #EVICT_BELOW}: it lends nothing new and evicts every slab it holds.
     */
    void runShortOfMemory(int donor) throws IOException {
        MemInfo.write(meminfo(donor), SHORT);
    }

    List<DonorProcess> processes() {
        return processes;
    }

    List<DonorAddress> addresses() {
        return processes.stream().map(DonorProcess::address).toList();
    }

    /** The donors' cluster secret as a client's {@code auth.secretFile}. */
    ConfigOverride secret() {
        return new ConfigOverride("auth.secretFile", secretFile, "the started donors' secret");
    }

    /** The command succeeded: its donors' logs are not worth keeping. */
    synchronized void succeeded() {
        succeeded = true;
    }

    /** Stops every donor (SIGTERM), then deletes the folder, or names it and deletes only the secret. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook is running or about to, and finds this closed
        }
        stopAll();
        if (succeeded) {
            Progress.deleteTree(dir);
        } else {
            Files.deleteIfExists(secretFile);
            System.err.printf("donor logs kept in %s%n", dir);
        }
    }

    /**
     * The shutdown hook: the command was stopped (SIGTERM, Ctrl-C) before {@link #close}. Stops the donors, also
     * one still starting, and deletes the folder.
     */
    private synchronized void stopOnSignal() {
        if (closed) {
            return; // close() ran, or ran to the end while this waited for the lock
        }
        closed = true;
        stopAll();
        try {
            Progress.deleteTree(dir);
            System.err.printf("stopped: %d donors stopped, %s deleted%n", forked.size(), dir);
        } catch (IOException | RuntimeException e) {
            System.err.printf("stopped: %d donors stopped; could not delete %s: %s%n", forked.size(), dir, e);
        }
    }

    /**
     * SIGTERM to every listening donor at once (each may take seconds to let go of its memory), a wait for each, then
     * SIGKILL to any donor process left, one still starting included, and a wait for those too. Holds the lock.
     */
    private void stopAll() {
        processes.forEach(DonorProcess::requestStop);
        processes.forEach(DonorProcess::close);
        forked.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle donor : forked) {
            try {
                donor.onExit().get(STARTING_EXIT_TIMEOUT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                System.err.printf("donor process %d did not exit after SIGKILL: %s%n", donor.pid(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
