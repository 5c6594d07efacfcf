/**
 * The bytes of a page space: {@link dev.valet.memory.pages.PageSpace} reads and writes spans of bytes over the
 * engine's 4 KiB pages (read-modify-write of shared pages under striped page locks), keeps which granules hold data
 * (unwritten bytes read as zeros), and an optional LRU cache of hot pages.
 */
package dev.valet.memory.pages;
