package dev.valet.common.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The client daemon's control socket ({@code control} in valet.yaml, docs/operations.md): a unix socket, mode
 * 0600, on which {@code valet status --client} asks the running daemon for its view (donors, slabs, degraded
 * copies, queues).
 *
 * @param socket the socket's path; empty turns it off; default {@code /run/valet/client.sock}
 */
public record ControlConfig(String socket) {
    public static final ControlConfig DEFAULTS = new ControlConfig("/run/valet/client.sock");

    public ControlConfig {
        Objects.requireNonNull(socket, "socket");
    }

    /** Whether the daemon opens the socket. */
    public boolean enabled() {
        return !socket.isEmpty();
    }

    public Path path() {
        return Path.of(socket);
    }

    /** @throws ConfigProblem with the key path relative to {@code control} */
    void validate() {
        if (enabled() && !socket.startsWith("/")) {
            throw new ConfigProblem("socket", "'" + socket + "' is not an absolute path (write /run/valet/client.sock,"
                    + " or \"\" to turn the control socket off)");
        }
        if (socket.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
            throw new ConfigProblem("socket", "'" + socket + "' is longer than a unix socket path may be (107 bytes)");
        }
    }
}
