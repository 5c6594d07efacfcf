package dev.valet.donor.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Reads {@code MemAvailable}: the kernel's estimate of memory free for new work. The one place the donor learns its
 * host's free memory. It reads {@code /proc/meminfo}, or another file in the same format: the documented test hook
 * {@code valet donor --meminfo-file PATH} (docs/operations.md) points it at a file that tests rewrite to induce
 * memory pressure.
 */
public final class MemInfo {
    /** The kernel's file. */
    public static final Path PROC_MEMINFO = Path.of("/proc/meminfo");

    private final Path file;

    public MemInfo(Path file) {
        this.file = file;
    }

    /** The host's own {@code /proc/meminfo}. */
    public static MemInfo system() {
        return new MemInfo(PROC_MEMINFO);
    }

    public Path file() {
        return file;
    }

    /** MemAvailable in bytes, read now. */
    public long availableBytes() {
        try {
            return parseAvailable(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /**
     * The test hook's other side: replaces {@code file} (atomically: a donor may be reading it) with meminfo text
     * saying {@code availableBytes} are available, of 16 GiB.
     */
    public static void write(Path file, long availableBytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, "MemTotal:       16777216 kB\nMemAvailable:   " + availableBytes / 1024 + " kB\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** MemAvailable in bytes from meminfo text ({@code "MemAvailable:   123456 kB"}). */
    static long parseAvailable(String meminfo) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemAvailable:")) {
                String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
                long value = Long.parseLong(parts[0]);
                return parts.length > 1 && parts[1].equals("kB") ? value * 1024 : value;
            }
        }
        throw new IllegalStateException("no MemAvailable line in meminfo");
    }
}
