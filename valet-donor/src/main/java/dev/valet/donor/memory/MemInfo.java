package dev.valet.donor.memory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads {@code MemAvailable} from {@code /proc/meminfo}: the kernel's estimate of memory free for new work. */
public final class MemInfo {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private MemInfo() {
    }

    public static long availableBytes() {
        try {
            return parseAvailable(Files.readString(MEMINFO));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MEMINFO, e);
        }
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
        throw new IllegalStateException("no MemAvailable line in " + MEMINFO);
    }
}
