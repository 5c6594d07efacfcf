package dev.valet.cli;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.portal.DonorAddress;
import dev.valet.donor.DonorProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Donor processes a command starts on 127.0.0.1 for itself (check, demo, bench), with their logs in a scratch
 * folder that is deleted when the command succeeds and kept, and named, when it does not. They share a fresh
 * random cluster secret (a 0600 file in that folder), so the command's own connections run the authentication
 * handshake like any real cluster's: {@link #secured} gives a client configuration that proves it.
 */
final class LoopbackDonors implements AutoCloseable {
    private final Path dir;
    private final Path secretFile;
    private final List<DonorProcess> processes = new ArrayList<>();
    private boolean succeeded;

    private LoopbackDonors(Path dir) {
        this.dir = dir;
        this.secretFile = dir.resolve("cluster.secret");
    }

    /**
     * Starts {@code count} donors lending {@code memory} each; {@code lockMemory} false is the usual choice here:
     * donors on the client's own machine would only pin the same memory twice.
     */
    static LoopbackDonors start(String purpose, int count, String memory, boolean lockMemory) throws IOException {
        return start(purpose, count, memory, lockMemory, "127.0.0.1");
    }

    /** Like {@link #start(String, int, String, boolean)}, the donors listening on {@code host} (an own address). */
    static LoopbackDonors start(String purpose, int count, String memory, boolean lockMemory, String host)
            throws IOException {
        LoopbackDonors donors = new LoopbackDonors(Files.createTempDirectory("valet-" + purpose + "-"));
        System.err.printf("starting %d donors on %s (logs in %s)%n", count, host, donors.dir);
        try {
            ClusterSecret.generate(donors.secretFile);
            for (int i = 0; i < count; i++) {
                donors.processes.add(DonorProcess.start(donors.dir, String.valueOf(i), host, 0, "--memory", memory,
                        lockMemory ? "--lock-memory" : "--no-lock-memory", "--secret-file",
                        donors.secretFile.toString()));
            }
        } catch (IOException | RuntimeException e) {
            donors.close();
            throw e;
        }
        return donors;
    }

    List<DonorProcess> processes() {
        return processes;
    }

    List<DonorAddress> addresses() {
        return processes.stream().map(DonorProcess::address).toList();
    }

    /** {@code config} with the donors' cluster secret as its {@code auth.secretFile}. */
    ClientConfig secured(ClientConfig config) {
        ClientConfig c = config.withAuth(config.auth().withSecretFile(secretFile.toString()));
        c.validate();
        return c;
    }

    /** The command succeeded: its donors' logs are not worth keeping. */
    void succeeded() {
        succeeded = true;
    }

    /** Stops every donor (SIGTERM), then deletes or names the log folder. */
    @Override
    public void close() throws IOException {
        try {
            for (DonorProcess p : processes) {
                p.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (succeeded) {
            Progress.deleteTree(dir);
        } else {
            System.err.printf("donor logs kept in %s%n", dir);
        }
    }
}
