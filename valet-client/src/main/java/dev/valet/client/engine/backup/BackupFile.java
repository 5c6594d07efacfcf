package dev.valet.client.engine.backup;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the file or block device a {@link BackupDisk} lives on, and checks it is large enough. */
final class BackupFile {
    private BackupFile() {
    }

    /**
     * Opens {@code path} for reading and writing. A regular file is created if missing and extended (sparse) to
     * {@code neededBytes} if shorter; anything else (a block device) is never resized and must already hold them.
     *
     * @throws IOException if the path is a directory, cannot be opened for writing, or is too small
     */
    static RandomAccessFile open(Path path, long neededBytes) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException("backup disk " + path + " is a directory, not a file or a block device");
        }
        boolean regular = Files.notExists(path) || Files.isRegularFile(path);
        RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw");
        try {
            // ftruncate: the file grows without allocating blocks. RandomAccessFile.length() (unlike
            // Files.size) reports a block device's real size on Linux since JDK 17.
            if (regular && file.length() < neededBytes) {
                file.setLength(neededBytes);
            }
            requireCapacity(path, file.length(), neededBytes);
            return file;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Fails unless a disk of {@code actualBytes} can hold {@code neededBytes}. Separate from {@link #open} so the
     * check a block device goes through can be tested with a plain file.
     */
    static void requireCapacity(Path path, long actualBytes, long neededBytes) throws IOException {
        if (actualBytes < neededBytes) {
            throw new IOException("backup disk " + path + " is " + actualBytes + " bytes, but " + neededBytes
                    + " are needed (the whole swap space, and with encryption 1/128 more for the pages' versions and"
                    + " tags)");
        }
    }
}
