/**
 * The donor's slab store: lent memory as off-heap slabs, each owned by one client identity, with a version and a
 * CRC32C kept per page.
 */
package dev.valet.donor.store;
