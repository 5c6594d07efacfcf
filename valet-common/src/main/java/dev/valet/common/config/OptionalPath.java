package dev.valet.common.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A YAML value that is a path or the word {@value #NONE} ({@code backupDisk}, {@code auth.secretFile},
 * {@code tls.*}): how it is read, checked and resolved against the YAML file's directory, in one place.
 */
final class OptionalPath {
    /** The value that means "no file". */
    static final String NONE = "none";

    private OptionalPath() {
    }

    /** The path, or empty for {@value #NONE}. */
    static Optional<Path> of(String value) {
        return NONE.equals(value) ? Optional.empty() : Optional.of(Path.of(value));
    }

    /** {@code value} resolved against {@code directory}; {@value #NONE}, blank and malformed values are kept. */
    static String resolve(Path directory, String value) {
        if (value.isBlank() || NONE.equals(value)) {
            return value;
        }
        try {
            return directory.resolve(value).normalize().toString();
        } catch (InvalidPathException e) {
            return value;
        }
    }

    /** @throws ConfigProblem when {@code value} is blank or not a valid path */
    static void check(String key, String value) {
        if (value.isBlank()) {
            throw new ConfigProblem(key, "must be a path or " + NONE);
        }
        try {
            Path.of(value);
        } catch (InvalidPathException e) {
            throw new ConfigProblem(key, "'" + value.replace("\0", "\\0") + "' is not a valid path ("
                    + e.getReason() + ")");
        }
    }
}
