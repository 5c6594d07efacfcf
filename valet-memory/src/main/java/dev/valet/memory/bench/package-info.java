/**
 * The remote-memory benchmark behind {@code valet memory-bench} (docs/benchmarks.md): Gengar's shape, objects read
 * and written whole through the async API, every read verified.
 */
package dev.valet.memory.bench;
