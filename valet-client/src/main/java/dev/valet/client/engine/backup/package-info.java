/**
 * The optional disk backup of the client engine ({@code backupDisk} in valet.yaml): every page write the engine
 * accepts is also queued, in order, to a file or block device, which then serves the reads no donor replica can.
 * See {@link dev.valet.client.engine.backup.BackupDisk}.
 */
package dev.valet.client.engine.backup;
