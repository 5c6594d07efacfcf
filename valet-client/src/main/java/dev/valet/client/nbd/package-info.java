/**
 * The NBD front end: the engine served as one export of the Network Block Device protocol (docs/nbd.md), for a
 * kernel's nbd driver ({@code nbd-client}) or a user-space client (libnbd's {@code nbdinfo}, {@code nbdcopy},
 * qemu) instead of the valet driver's /dev/valetN. {@link dev.valet.client.nbd.NbdServer} listens;
 * {@link dev.valet.client.nbd.NbdHandshake} haggles the options and hands each connection to
 * {@link dev.valet.client.nbd.NbdRequestDecoder} and {@link dev.valet.client.nbd.NbdRequestHandler}.
 */
package dev.valet.client.nbd;
