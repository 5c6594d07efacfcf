package dev.valet.common.config;

import java.nio.file.Path;

/**
 * A configuration type holding paths that, when loaded from a file, are relative to that file's directory
 * rather than to wherever the daemon was started. This is what lets {@code /etc/valet/valet.yaml} say
 * {@code portalList: portal.list} and mean {@code /etc/valet/portal.list}.
 *
 * @param <T> the configuration type itself
 */
public interface FileRelativeConfig<T> {

    /**
     * A copy in which every relative path, including a default one, is resolved against {@code directory};
     * absolute paths are kept.
     *
     * @param directory absolute directory of the configuration file
     */
    T resolveRelativePaths(Path directory);
}
