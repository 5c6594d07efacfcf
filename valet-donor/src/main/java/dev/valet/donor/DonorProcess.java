package dev.valet.donor;

import dev.valet.common.portal.DonorAddress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A donor daemon running as a separate JVM on loopback: what tests, {@code valet check} and the demo start, so
 * they exercise the real process (its own memory, its own sockets, a real SIGKILL) rather than an in-process stand-in.
 * It is configured by donor.yaml text, written to {@code donor-<name>.yaml} in the work folder (so a relative path
 * in it is relative to that folder), with the {@code listen} key added; it runs {@link DonorDaemon#main}, listens on
 * port 0 unless told otherwise, and reports the port it got through its ready file.
 */
public final class DonorProcess implements AutoCloseable {
    /** A donor that is still starting after this long (a loaded machine, an emulator) is given up. */
    private static final long READY_TIMEOUT_MS = 240_000;

    private final Process process;
    private final DonorAddress address;
    private final Path log;
    /** What it was started with, for {@link #restart()}. */
    private final Path workDir;
    private final String name;
    private final String donorYaml;
    private final Path meminfoFile;

    private DonorProcess(Process process, DonorAddress address, Path log, Path workDir, String name,
                         String donorYaml, Path meminfoFile) {
        this.process = process;
        this.address = address;
        this.log = log;
        this.workDir = workDir;
        this.name = name;
        this.donorYaml = donorYaml;
        this.meminfoFile = meminfoFile;
    }

    /**
     * Starts a donor on a free port of 127.0.0.1 with this JVM's class path, and waits until it listens.
     *
     * @param workDir   where its donor.yaml, ready file and log ({@code donor-<name>.log}) go
     * @param name      a short name for the files and the log
     * @param donorYaml its settings, as donor.yaml would write them ({@code "memory: 64M\nlockMemory: false\n"}),
     *                  without {@code listen}
     */
    public static DonorProcess start(Path workDir, String name, String donorYaml) throws IOException {
        return start(workDir, name, 0, donorYaml);
    }

    /** Like {@link #start(Path, String, String)} on a given port of 127.0.0.1 (0: any free port). */
    public static DonorProcess start(Path workDir, String name, int port, String donorYaml) throws IOException {
        return start(workDir, name, "127.0.0.1", port, donorYaml);
    }

    /**
     * Like {@link #start(Path, String, int, String)} on {@code host}, an address of this machine (RDMA over
     * Soft-RoCE needs the rxe device's address: rdma_cm does not route 127.0.0.1).
     */
    public static DonorProcess start(Path workDir, String name, String host, int port, String donorYaml)
            throws IOException {
        return start(workDir, name, host, port, donorYaml, null);
    }

    /**
     * Like {@link #start(Path, String, String, int, String)}, the donor reading its host's free memory from
     * {@code meminfoFile} (in /proc/meminfo's format) instead of /proc/meminfo: a test rewrites it to put the donor
     * under memory pressure (docs/operations.md, "Test hook").
     */
    public static DonorProcess start(Path workDir, String name, String host, int port, String donorYaml,
                                     Path meminfoFile) throws IOException {
        return launch(workDir, name, host, port, donorYaml, meminfoFile).awaitReady();
    }

    /**
     * The first half of {@link #start(Path, String, String, int, String, Path)}: writes the donor's files and forks
     * its process, without waiting for it to listen. A caller that must stop every donor it started (on SIGTERM,
     * from a shutdown hook) launches under its own lock, so it knows of a donor that is still starting.
     */
    public static Starting launch(Path workDir, String name, String host, int port, String donorYaml,
                                  Path meminfoFile) throws IOException {
        Files.createDirectories(workDir);
        Path ready = workDir.resolve("donor-" + name + ".ready");
        Path log = workDir.resolve("donor-" + name + ".log");
        Path yaml = workDir.resolve("donor-" + name + ".yaml");
        Files.deleteIfExists(ready);
        Files.writeString(yaml, "listen: \"" + host + ":" + port + "\"\n" + donorYaml);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                DonorDaemon.class.getName(), yaml.toString(), ready.toString()));
        if (meminfoFile != null) {
            cmd.add(meminfoFile.toString());
        }
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new Starting(p, ready, log, workDir, name, donorYaml, meminfoFile);
    }

    /** A donor process forked by {@link #launch} that may not listen yet. */
    public static final class Starting {
        private final Process process;
        private final Path ready;
        private final Path log;
        private final Path workDir;
        private final String name;
        private final String donorYaml;
        private final Path meminfoFile;

        private Starting(Process process, Path ready, Path log, Path workDir, String name, String donorYaml,
                         Path meminfoFile) {
            this.process = process;
            this.ready = ready;
            this.log = log;
            this.workDir = workDir;
            this.name = name;
            this.donorYaml = donorYaml;
            this.meminfoFile = meminfoFile;
        }

        public ProcessHandle handle() {
            return process.toHandle();
        }

        /** Waits until the donor listens; kills it if it does not within the timeout, or if interrupted. */
        public DonorProcess awaitReady() throws IOException {
            long deadline = System.currentTimeMillis() + READY_TIMEOUT_MS;
            try {
                while (!Files.exists(ready)) {
                    if (!process.isAlive()) {
                        throw new IOException("donor " + name + " exited with " + process.exitValue()
                                + " before listening; its log " + log + ":\n" + head(log));
                    }
                    if (System.currentTimeMillis() > deadline) {
                        process.destroyForcibly();
                        throw new IOException("donor " + name + " not listening after " + READY_TIMEOUT_MS + " ms;"
                                + " its log " + log + ":\n" + tail(log));
                    }
                    Thread.sleep(20);
                }
                return new DonorProcess(process, DonorAddress.parse(Files.readString(ready).trim()), log, workDir,
                        name, donorYaml, meminfoFile);
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting donor " + name, e);
            }
        }
    }

    private static String head(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(0, Math.min(lines.size(), 20)));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    public DonorAddress address() {
        return address;
    }

    /**
     * The URL ({@code http://127.0.0.1:PORT}) of its Prometheus endpoint, when its donor.yaml set
     * {@code metrics.listen} (written by the donor before its ready file).
     */
    public String metricsUrl() throws IOException {
        return Files.readString(workDir.resolve("donor-" + name + ".ready.metrics")).trim();
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: the donor dies at once, as in a crash; its memory is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * SIGSTOP: the donor freezes with its connections open, as behind a network partition. Returns once every
     * thread of it is stopped: kill(2) only queues the signal, and on a busy machine the donor's event loops could
     * otherwise go on answering for a while after this returns.
     */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
        awaitThreads(true);
    }

    /** SIGCONT: a paused donor runs again, with whatever it held when it froze; returns once no thread is stopped. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
        awaitThreads(false);
    }

    /** Waits (up to 10 s) until every thread of the process is stopped ({@code T} in /proc), or until none is. */
    private void awaitThreads(boolean stopped) throws IOException, InterruptedException {
        Path tasks = Path.of("/proc", Long.toString(process.pid()), "task");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!threadsAre(tasks, stopped)) {
            if (System.nanoTime() - deadline > 0) {
                throw new IOException("donor " + name + " (pid " + process.pid() + "): threads not "
                        + (stopped ? "stopped" : "running") + " 10 s after the signal");
            }
            Thread.sleep(5);
        }
    }

    private static boolean threadsAre(Path tasks, boolean stopped) throws IOException {
        if (!Files.isDirectory(tasks)) {
            return true; // the process is gone: nothing of it runs
        }
        try (var threads = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) threads::iterator) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (NoSuchFileException e) {
                    continue; // a thread that ended meanwhile
                } catch (IOException e) {
                    if (Files.exists(task)) {
                        throw e;
                    }
                    continue; // one that ended while its stat was read (ESRCH, "No such process")
                }
                // state is the first field after the command name, which is in parentheses and may hold spaces
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                if ((state == 'T') != stopped) {
                    return false;
                }
            }
        }
        return true;
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /**
     * A restart on the same address: SIGKILL if still running, then a new process (a new donor instance, empty) on
     * the same host and port with the same settings, logging to the same file. Returns the new process; this one is
     * dead.
     */
    public DonorProcess restart() throws IOException, InterruptedException {
        if (process.isAlive()) {
            kill();
        }
        return start(workDir, name, address.host(), address.port(), donorYaml, meminfoFile);
    }

    /** SIGTERM and wait for a clean exit (SIGKILL after 15 s); returns the exit code, -1 if it is still not gone. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** SIGTERM without waiting, so that several donors stop at once; {@link #close} then waits for this one. */
    public void requestStop() {
        process.destroy();
    }

    /**
     * {@link #stop()} if still running. Interrupted meanwhile, it kills the donor and keeps the interrupt on the
     * thread: close() throws no InterruptedException, which a try-with-resources could otherwise swallow.
     */
    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                stop();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
