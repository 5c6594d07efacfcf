package dev.valet.cli;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a picocli option that sets a YAML key ({@code --memory} sets {@code memory}): {@link ConfigFlags#given} turns
 * its value into a {@link dev.valet.common.config.ConfigOverride} named after the flag, and {@link ConfigFlags.Help}
 * ends its description with "YAML key: memory (default 1G)." The option's class says which configuration the key
 * is in ({@link ConfigKeysOf}). A flag without a default of its own is a wrapper type, null when not given.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
@interface ConfigKey {
    /** The key's dotted path, {@code failover.donorTimeout}. */
    String value();

    /** The default as help shows it, when the configuration's own would mislead ("this host's name"). */
    String defaultText() default "";
}
