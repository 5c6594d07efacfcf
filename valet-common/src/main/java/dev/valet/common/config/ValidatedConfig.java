package dev.valet.common.config;

/**
 * A configuration type with rules beyond what its value types check on their own: ranges, multiples and
 * relations between keys. {@link ConfigLoader} calls {@link #validate()} after binding, so no caller ever
 * sees a loaded configuration that breaks a rule. Code that changes a configuration afterwards (command-line
 * flags through the {@code with...} methods) calls {@link #validate()} again.
 */
public interface ValidatedConfig {

    /**
     * Checks every rule, stopping at the first broken one.
     *
     * @throws ConfigProblem naming the key, the allowed range and the value found
     */
    void validate();
}
