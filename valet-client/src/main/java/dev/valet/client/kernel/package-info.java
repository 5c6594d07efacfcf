/**
 * The kernel channel: the daemon's end of the generic netlink family VALET ({@code native/kernel/valet_uapi.h},
 * mirrored by {@link dev.valet.client.kernel.ValetGenl}), through which the valet block driver hands /dev/valetN's
 * requests to the client engine. {@link dev.valet.client.kernel.KernelChannel} serves them;
 * {@link dev.valet.client.kernel.NetlinkSocket} and {@link dev.valet.client.kernel.GenericNetlink} are the netlink
 * plumbing; {@link dev.valet.client.kernel.MessageWriter}, {@link dev.valet.client.kernel.MessageReader} and
 * {@link dev.valet.client.kernel.AttributeReader} are allocation-free, bounds-checked flyweights over the
 * {@code *Descriptor} layouts.
 */
package dev.valet.client.kernel;
