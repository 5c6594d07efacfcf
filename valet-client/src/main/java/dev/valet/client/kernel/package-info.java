/**
 * The kernel channel: the daemon's end of the generic netlink family VALET ({@code native/kernel/valet_uapi.h},
 * mirrored by {@link dev.valet.client.kernel.ValetGenl}), through which the valet block driver hands /dev/valetN's
 * requests to the client engine. {@link dev.valet.client.kernel.KernelChannel} serves them; the netlink it speaks
 * is {@code dev.valet.client.netlink}'s.
 */
package dev.valet.client.kernel;
