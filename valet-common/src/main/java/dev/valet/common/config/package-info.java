/**
 * The YAML configuration of the Valet daemons ({@code donor.yaml}, {@code valet.yaml}) and the value syntax
 * shared with their command-line flags: sizes ({@link dev.valet.common.config.ByteSize}), durations
 * ({@link dev.valet.common.config.Durations}) and transports. {@link dev.valet.common.config.ConfigLoader} binds
 * a file strictly onto a configuration record, fills in defaults, resolves relative paths and checks the record's
 * rules, so a daemon either starts with exactly what the operator wrote or stops with a
 * {@link dev.valet.common.config.ConfigException} naming the file, line, column and key to fix.
 */
package dev.valet.common.config;
