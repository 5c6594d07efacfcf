/**
 * A small netlink library, nothing Valet-specific in it: an {@code AF_NETLINK} socket that sends and receives
 * without allocating ({@link dev.valet.client.netlink.NetlinkSocket}, behind the
 * {@link dev.valet.client.netlink.NetlinkEndpoint} interface a test can fake), request-and-answer generic netlink
 * with family lookup through nlctrl ({@link dev.valet.client.netlink.GenericNetlink}), and allocation-free,
 * bounds-checked flyweights that write and read messages and attributes
 * ({@link dev.valet.client.netlink.MessageWriter}, {@link dev.valet.client.netlink.MessageReader},
 * {@link dev.valet.client.netlink.AttributeReader}) over the ABI's layouts (the {@code *Descriptor} classes,
 * constants in {@link dev.valet.client.netlink.Netlink}). Whatever arrives, readers never read outside the message:
 * they throw {@link dev.valet.client.netlink.MalformedMessageException}. The VALET family itself is
 * {@code dev.valet.client.kernel}'s.
 */
package dev.valet.client.netlink;
