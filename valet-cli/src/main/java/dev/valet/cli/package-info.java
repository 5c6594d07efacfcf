/**
 * {@code bin/valet}'s commands (picocli), built into one jar: {@link dev.valet.cli.ValetCommand} lists them; each
 * explains its options with {@code --help}. Bad input exits 2 with one line naming what and where, anything else 1.
 */
package dev.valet.cli;
