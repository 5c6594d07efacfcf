/**
 * Remote memory for Java programs (docs/memory-api.md): {@link dev.valet.memory.RemoteMemory} connects with
 * valet.yaml, allocates {@link dev.valet.memory.Region}s, reads and writes them with {@code ByteBuffer}s (one at a
 * time, in bulk, or async) and frees them; the client engine keeps their pages replicated on the donors.
 */
package dev.valet.memory;
