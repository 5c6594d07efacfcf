/**
 * The few POSIX calls Valet makes directly (through jnr-ffi): anonymous mappings for off-heap slabs, mlock; and the
 * daemons' SIGTERM/SIGINT handlers ({@link dev.valet.common.posix.TerminationSignals}). Everything that needs libc
 * goes through {@link dev.valet.common.posix.LibC}, so the native surface is in one file.
 */
package dev.valet.common.posix;
