/**
 * The client engine: where every page lives and how it is kept. {@link dev.valet.client.engine.Engine} is the
 * front ends' entry; {@code SlabMap} (slabs, page versions and checksums), {@code SlabPlacer} (first-write
 * placement), {@code ReplicaWriter} / {@code ReplicaReader} (the data path), {@code ReReplicator} (repair),
 * {@code SlabMigrator} (moving a slab a donor evicts);
 * {@code donors} (liveness), {@code placement} (ranking), {@code backup} (the optional disk).
 */
package dev.valet.client.engine;
