package dev.valet.common.config;

import java.util.Objects;

/**
 * One key set over a configuration file, as a command-line flag does ({@code --memory 8G} sets {@code memory}).
 * {@link ConfigLoader} lays it on the file's keys before binding, so the value is read and checked exactly as if the
 * file had it, and a problem with it is reported against its origin instead of a line of the file:
 * {@code --memory: memory: must be at least 4K, got 0}.
 *
 * @param keyPath the key's dotted path, as in YAML and in error messages: {@code memory}, {@code failover.donorTimeout}
 * @param value   text, read as a YAML scalar of the key's type would be ({@code "3s"}, {@code "64"}, {@code "true"};
 *                a text key takes it verbatim), or a value of the key's type ({@code ByteSize}, {@code Duration},
 *                {@code Integer}, {@code Path}, ...)
 * @param origin  what set the key, named in error messages: the flag ({@code --memory})
 */
public record ConfigOverride(String keyPath, Object value, String origin) {

    public ConfigOverride {
        Objects.requireNonNull(keyPath, "keyPath");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(origin, "origin");
    }

    /** A key set by code (a command's own setting, a test), reported in messages as {@code override}. */
    public static ConfigOverride of(String keyPath, Object value) {
        return new ConfigOverride(keyPath, value, "override");
    }
}
