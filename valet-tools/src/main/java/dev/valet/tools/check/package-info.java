/**
 * The checking client ({@link dev.valet.tools.check.PageCheck}): writes known pages
 * ({@link dev.valet.common.protocol.PagePattern}) straight to donors over their connections, no engine, reads them
 * back and verifies version, CRC32C and every byte. {@code valet check} runs it; tests use it as a verified
 * workload.
 */
package dev.valet.tools.check;
