package dev.valet.common.config;

import java.time.Duration;

/**
 * The range checks configuration records share, so that every rule is worded the same way: the key, the
 * allowed range in the syntax the file uses, and the value found.
 */
final class ConfigRules {

    private ConfigRules() {
    }

    static void requireBetween(String key, ByteSize value, ByteSize min, ByteSize max) {
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new ConfigProblem(key, "must be between " + min + " and " + max + ", got " + value);
        }
    }

    static void requireBetween(String key, Duration value, Duration min, Duration max) {
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new ConfigProblem(key, "must be between " + Durations.format(min) + " and "
                    + Durations.format(max) + ", got " + Durations.format(value));
        }
    }

    static void requireBetween(String key, int value, int min, int max) {
        if (value < min || value > max) {
            throw new ConfigProblem(key, "must be between " + min + " and " + max + ", got " + value);
        }
    }

    /**
     * Runs the checks of a section ({@code placement}, {@code auth}, ...), naming a broken key by its full path
     * ({@code auth.secretFile}).
     */
    static void inSection(String section, Runnable checks) {
        try {
            checks.run();
        } catch (ConfigProblem p) {
            throw new ConfigProblem(section + "." + p.keyPath(), p.problem());
        }
    }

    static void requireMultipleOf(String key, ByteSize value, long unit) {
        if (!value.isMultipleOf(unit)) {
            throw new ConfigProblem(key, "must be a multiple of " + ByteSize.ofBytes(unit) + " (" + unit
                    + " bytes), got " + value);
        }
    }
}
