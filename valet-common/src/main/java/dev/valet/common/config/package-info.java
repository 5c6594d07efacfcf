/**
 * The YAML configuration of the Valet daemons ({@code donor.yaml}, {@code valet.yaml}) and the value syntax
 * shared with their command-line flags: sizes ({@link dev.valet.common.config.ByteSize}), durations
 * ({@link dev.valet.common.config.Durations}) and transports. Each key is declared once, as a component of a
 * configuration record ({@link dev.valet.common.config.ClientConfig}, {@link dev.valet.common.config.DonorConfig}
 * and their sections) with its default in the record's defaults and its rules in its {@code validate()}.
 * {@link dev.valet.common.config.ConfigLoader} lays a file over the defaults and command-line flags
 * ({@link dev.valet.common.config.ConfigOverride}) over the file, binds the result strictly onto the record and
 * checks its rules, so a daemon either starts with exactly what the operator wrote or stops with a
 * {@link dev.valet.common.config.ConfigException} naming the file, line, column (or the flag) and key to fix.
 */
package dev.valet.common.config;
