package dev.valet.cli;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The configuration ({@code ClientConfig}, {@code DonorConfig}) whose keys the {@link ConfigKey} flags here set. */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@interface ConfigKeysOf {
    Class<? extends Record> value();
}
