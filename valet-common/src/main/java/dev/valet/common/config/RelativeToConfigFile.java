package dev.valet.common.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a key holding a file path that, written in a YAML file, is relative to that file's directory rather than to
 * wherever the daemon was started: {@code /etc/valet/valet.yaml} saying {@code portalList: portal.list} means
 * {@code /etc/valet/portal.list}. A default path is resolved too; a path given by a command-line flag is not (it is
 * relative to the working directory, as on any command line). The key is a {@link java.nio.file.Path}, or a
 * {@code String} that is a path or {@code none}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface RelativeToConfigFile {
}
