package dev.valet.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where a command finds its YAML file when {@code --config} names none: the working directory, then
 * {@code /etc/valet/} (where the Debian package installs it), else none and the built-in defaults. The one place
 * that knows the order; docs/configuration.md describes it.
 */
final class ConfigSearch {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigSearch.class);

    /** The installed configuration's folder. */
    static final Path SYSTEM_DIR = Path.of("/etc/valet");

    /** {@code ./}, then {@code /etc/valet/}. */
    static final ConfigSearch DEFAULT = new ConfigSearch(List.of(Path.of(""), SYSTEM_DIR));

    private final List<Path> dirs;

    ConfigSearch(List<Path> dirs) {
        this.dirs = List.copyOf(dirs);
    }

    /**
     * {@code given} if there is one (it must then exist: the loader says so if not); else the first folder's
     * {@code fileName} that is a regular file; else empty (built-in defaults).
     */
    Optional<Path> find(Path given, String fileName) {
        if (given != null) {
            return Optional.of(given);
        }
        for (Path dir : dirs) {
            Path candidate = dir.resolve(fileName);
            if (Files.isRegularFile(candidate)) {
                LOG.info("configuration: {} (no --config given)", candidate.toAbsolutePath().normalize());
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
