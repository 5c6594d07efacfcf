/**
 * The books of a page space: which bytes belong to which region. {@link dev.valet.memory.alloc.Allocator} places a
 * region in a slot of a size class (small ones, packed) or in a run of whole pages (large ones), and takes it back.
 * No I/O: the data is {@code dev.valet.memory.pages}'.
 */
package dev.valet.memory.alloc;
