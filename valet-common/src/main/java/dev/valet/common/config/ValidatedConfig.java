package dev.valet.common.config;

/**
 * A configuration type with rules beyond what its value types check on their own: ranges, multiples and
 * relations between keys. {@link ConfigLoader} calls {@link #validate()} after binding the file and the
 * command-line flags' {@link ConfigOverride}s, so no caller ever sees a loaded configuration that breaks a rule.
 */
public interface ValidatedConfig {

    /**
     * Checks every rule, stopping at the first broken one.
     *
     * @throws ConfigProblem naming the key, the allowed range and the value found
     */
    void validate();
}
